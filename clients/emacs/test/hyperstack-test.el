;;; hyperstack-test.el --- Tests of hyperstack.el against the real server -*- lexical-binding: t -*-

;;; Commentary:

;; Run by run.sh with `emacs --batch', against the real hyperstack-rpc
;; ($HYPERSTACK_TEST_BIN) and the real HTTP sandbox
;; ($HYPERSTACK_TEST_SANDBOX_BIN): no part of the server is mocked.
;; Only the user's answers to prompts are supplied, by replacing
;; `read-string', `yes-or-no-p' and `read-key' for the duration of a
;; command.  Every check looks at what a user would see (the keys
;; buffer's text, the messages) or asks another process (a `call'
;; one-shot, the daemon's status) what really happened.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'hyperstack)

(defvar hyperstack-test-bin (getenv "HYPERSTACK_TEST_BIN")
  "The hyperstack-rpc binary under test.")

(defvar hyperstack-test-sandbox-bin (getenv "HYPERSTACK_TEST_SANDBOX_BIN")
  "The hyperstack-sandbox binary, an HTTP emulator of the upstream API.")

(defconst hyperstack-test-api-key "emacs-client-test-key"
  "The API key the HTTP sandbox accepts, besides the secrets it generates.")

(defconst hyperstack-test-wait 15
  "Seconds a test waits for something to show before it fails.")

;;;; Helpers

(defun hyperstack-test--wait-for (what predicate)
  "Wait until PREDICATE holds, at most `hyperstack-test-wait' s; fail naming WHAT."
  (let ((deadline (+ (float-time) hyperstack-test-wait)))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (unless (funcall predicate)
      (ert-fail (format "waited %s s for %s; the keys buffer holds:\n%s"
                        hyperstack-test-wait what (hyperstack-test--keys-text))))))

(defun hyperstack-test--keys-text ()
  "The text of the keys buffer, or a note that there is none."
  (let ((buffer (get-buffer hyperstack-keys-buffer-name)))
    (if buffer
        (with-current-buffer buffer
          (buffer-substring-no-properties (point-min) (point-max)))
      "<no keys buffer>")))

(defun hyperstack-test--line-with (text)
  "The line of the keys buffer that holds TEXT, or nil."
  (with-current-buffer hyperstack-keys-buffer-name
    (save-excursion
      (goto-char (point-min))
      (and (search-forward text nil t)
           (buffer-substring-no-properties (line-beginning-position)
                                           (line-end-position))))))

(defun hyperstack-test--goto-line-with (text)
  "Move point in the keys buffer to the line that holds TEXT."
  (with-current-buffer hyperstack-keys-buffer-name
    (goto-char (point-min))
    (unless (search-forward text nil t)
      (ert-fail (format "no line holds %S:\n%s" text (hyperstack-test--keys-text))))
    (beginning-of-line)))

(defun hyperstack-test--line-count ()
  "The number of key lines in the keys buffer."
  (with-current-buffer hyperstack-keys-buffer-name
    (count-lines (point-min) (point-max))))

(defun hyperstack-test--unique (prefix)
  "A key name starting with PREFIX that no earlier run used."
  (format "%s-%d-%s" prefix (emacs-pid) (format-time-string "%H%M%S%N")))

(defun hyperstack-test--run (program args &optional environment)
  "Run PROGRAM with ARGS and ENVIRONMENT (\"VAR=VALUE\" strings) to completion.
Returns (STATUS STDOUT STDERR).  The output buffers are killed, so
that a secret printed by a one-shot stays out of the buffer scans."
  (let ((process-environment (append environment process-environment))
        (stderr-file (make-temp-file "hyperstack-test-stderr")))
    (unwind-protect
        (with-temp-buffer
          (let ((status (apply #'call-process program nil
                               (list (current-buffer) stderr-file) nil args)))
            (list status (buffer-string)
                  (with-temp-buffer (insert-file-contents stderr-file)
                                    (buffer-string)))))
      (delete-file stderr-file))))

(defun hyperstack-test--json (text)
  "TEXT parsed as JSON into plists, or a test failure naming it."
  (condition-case nil
      (json-parse-string text :object-type 'plist :null-object nil)
    (error (ert-fail (format "not JSON: %S" text)))))

(defun hyperstack-test--secrets-anywhere (secret)
  "Where SECRET can still be found in this Emacs: a list of places."
  (append
   (cl-loop for buffer in (buffer-list)
            when (with-current-buffer buffer
                   (save-excursion
                     (save-restriction
                       (widen)
                       (goto-char (point-min))
                       (search-forward secret nil t))))
            collect (format "buffer %S" (buffer-name buffer)))
   (and (cl-some (lambda (kill) (and (stringp kill) (string-search secret kill)))
                 kill-ring)
        (list "the kill ring"))
   (and (current-message) (string-search secret (current-message))
        (list "the echo area"))))

(defvar hyperstack-test--prompts nil
  "The prompts the commands under test asked, newest first.")

(defmacro hyperstack-test--answering (answers &rest body)
  "Run BODY with the prompts answered from ANSWERS; return BODY's value.
ANSWERS is a plist: :strings, a list of answers to `read-string' in
order; :yes-or-no, the answer to `yes-or-no-p'; :on-read-key, a
function called (with no arguments) when `read-key' is called, whose
value is the key read.  The prompts asked, with their initial
inputs, are pushed onto the list `hyperstack-test--prompts'."
  (declare (indent 1))
  `(let* ((hyperstack-test--answers ,answers)
          (strings (plist-get hyperstack-test--answers :strings)))
     (cl-letf (((symbol-function 'read-string)
                (lambda (prompt &optional initial &rest _)
                  (push (list prompt initial) hyperstack-test--prompts)
                  (unless strings (ert-fail (format "unexpected prompt %S" prompt)))
                  (pop strings)))
               ((symbol-function 'yes-or-no-p)
                (lambda (prompt)
                  (push (list prompt) hyperstack-test--prompts)
                  (plist-get hyperstack-test--answers :yes-or-no)))
               ((symbol-function 'read-key)
                (lambda (&optional prompt &rest _)
                  (push (list prompt) hyperstack-test--prompts)
                  (funcall (or (plist-get hyperstack-test--answers :on-read-key)
                               (lambda () (ert-fail "unexpected read-key")))))))
       (prog1 (progn ,@body)
         (when strings (ert-fail (format "prompts not asked for %S" strings)))))))

(defun hyperstack-test--read-secret-buffer ()
  "Return the secret shown in *Hyperstack secret*; fail unless it is displayed."
  (let ((buffer (get-buffer "*Hyperstack secret*")))
    (should buffer)
    (should (get-buffer-window buffer))
    (with-current-buffer buffer
      (goto-char (point-min))
      (should (re-search-forward "^    \\([!-~]+\\)$" nil t))
      (match-string-no-properties 1))))

(defun hyperstack-test--messages ()
  "The text of *Messages*."
  (with-current-buffer (messages-buffer) (buffer-string)))

;;;; The HTTP sandbox

(defun hyperstack-test--start-http-sandbox ()
  "Start hyperstack-sandbox on a free loopback port; return (PROCESS . URL)."
  (should (file-executable-p hyperstack-test-sandbox-bin))
  (let* ((output (generate-new-buffer " *test sandbox*"))
         (process (make-process :name "test-sandbox" :buffer output
                                :command (list hyperstack-test-sandbox-bin
                                               "--host" "127.0.0.1" "--port" "0"
                                               "--api-key" hyperstack-test-api-key)
                                :connection-type 'pipe :noquery t
                                :stderr (get-buffer-create " *test sandbox stderr*")))
         (deadline (+ (float-time) hyperstack-test-wait)))
    (while (and (process-live-p process)
                (not (with-current-buffer output
                       (string-match-p "\n" (buffer-string))))
                (< (float-time) deadline))
      (accept-process-output process 0.05))
    (let ((url (with-current-buffer output
                 (car (split-string (buffer-string) "\n")))))
      (unless (string-prefix-p "http://127.0.0.1:" url)
        (delete-process process)
        (ert-fail (format "hyperstack-sandbox printed no URL (%S); stderr: %s" url
                          (with-current-buffer " *test sandbox stderr*"
                            (buffer-string)))))
      (cons process url))))

(defmacro hyperstack-test--with-client (settings &rest body)
  "Run BODY with the client configured by SETTINGS, a `let' binding list.
The server is stopped and the keys buffer killed afterwards, even
when BODY fails."
  (declare (indent 1))
  ;; let*, so that SETTINGS, bound last, win over the defaults.
  `(let* ((hyperstack-program hyperstack-test-bin)
          (hyperstack-program-args '("--log-level" "warning"))
          (hyperstack-remote nil)
          (hyperstack-environment nil)
          (hyperstack-api-key-function nil)
          (hyperstack-watch-interval nil)
          (hyperstack-use-secret-file t)
          (hyperstack-after-change-functions nil)
          (hyperstack-test--prompts nil)
          ,@settings)
     (with-current-buffer (messages-buffer)
       (let ((inhibit-read-only t)) (erase-buffer)))
     (unwind-protect (progn ,@body)
       (when (get-buffer hyperstack-keys-buffer-name)
         (kill-buffer hyperstack-keys-buffer-name))
       (hyperstack-stop))))

;;;; Tests

(ert-deftest hyperstack-test-command-line ()
  "The command line: the program, its arguments, --remote; bad remotes refused."
  (let ((hyperstack-program nil)
        (hyperstack-program-args '("--sandbox"))
        (hyperstack-remote nil)
        (process-environment (cons "HYPERSTACK_RPC_BIN=/opt/hs/bin/hyperstack-rpc"
                                   process-environment)))
    (should (equal (hyperstack-command) '("/opt/hs/bin/hyperstack-rpc" "--sandbox")))
    (let ((hyperstack-program "/usr/bin/hyperstack-rpc"))
      (should (equal (car (hyperstack-command)) "/usr/bin/hyperstack-rpc")))
    (setenv "HYPERSTACK_RPC_BIN" nil)
    (should (equal (hyperstack-command) '("hyperstack-rpc" "--sandbox")))
    (let ((hyperstack-remote "auto"))
      (should (equal (hyperstack-command)
                     '("hyperstack-rpc" "--sandbox" "--remote" "auto"))))
    (let ((hyperstack-remote "unix:/tmp/hs.sock"))
      (should (equal (last (hyperstack-command) 2) '("--remote" "unix:/tmp/hs.sock"))))
    (dolist (bad '("" "AUTO" "auto " "unix:" "unix" "tcp:127.0.0.1:1" 1 t))
      (let* ((hyperstack-remote bad)
             (failure (should-error (hyperstack-command) :type 'user-error)))
        (should (string-match-p "must be nil" (cadr failure)))))))

(ert-deftest hyperstack-test-missing-program ()
  "A program that is not there is a readable `user-error', not a backtrace."
  (hyperstack-test--with-client
      ((hyperstack-program "/nonexistent/hyperstack-rpc"))
    (let ((failure (should-error (hyperstack-keys) :type 'user-error)))
      (should (string-match-p "cannot find /nonexistent/hyperstack-rpc" (cadr failure)))
      (should (string-match-p "hyperstack-program" (cadr failure))))
    (should-not (get-buffer hyperstack-keys-buffer-name))))

(ert-deftest hyperstack-test-bad-keys-are-refused-readably ()
  "A server refusing its API key says why, naming the key's source, never the key."
  (dolist (case '((environment . "HYPERSTACK_API_KEY")
                  (function . "initializationOptions.apiKey")))
    (hyperstack-test--with-client
        ((hyperstack-environment
          (and (eq (car case) 'environment)
               (list "HYPERSTACK_API_KEY=hunter2 with a space")))
         (hyperstack-api-key-function
          (and (eq (car case) 'function)
               (lambda () (string ?h ?u ?n ?t ?e ?r ?3 ?\n ?x)))))
      (let ((failure (should-error (hyperstack-keys) :type 'user-error)))
        (should (string-match-p "\\`Hyperstack: .*hyperstack-rpc did not start (" (cadr failure)))
        (should (string-match-p (regexp-quote (cdr case)) (cadr failure)))
        (should-not (string-match-p "hunter" (cadr failure))))
      (should-not hyperstack--connection)
      (should-not (get-buffer hyperstack-keys-buffer-name))
      (should-not (string-match-p "hyperstack-rpc exited" (hyperstack-test--messages)))
      (should-not (hyperstack-test--secrets-anywhere "hunter")))))

(ert-deftest hyperstack-test-list-generate-live-update-rename-delete ()
  "The keys buffer against the HTTP sandbox, with another process changing keys.
List, generate (the secret shown once, then nowhere), a key generated
and a key deleted by another process arriving through the server's
polling, rename, two refused requests, delete (answered no, then
yes), refresh, stop."
  (let* ((sandbox (hyperstack-test--start-http-sandbox))
         (url (cdr sandbox))
         (one-shot-env (list (concat "HYPERSTACK_API_KEY=" hyperstack-test-api-key)))
         (before (hyperstack-test--unique "emacs-before"))
         (fresh (hyperstack-test--unique "emacs-généré"))
         (renamed (hyperstack-test--unique "emacs-renamed"))
         (other (hyperstack-test--unique "emacs-other-process"))
         (changes nil))
    (cl-labels ((one-shot (method &optional params key)
                  ;; Another process: a `call' one-shot against the same upstream.
                  (pcase-let ((`(,status ,out ,err)
                               (hyperstack-test--run
                                hyperstack-test-bin
                                (list "call" method (json-serialize (or params (make-hash-table)))
                                      "--base-url" url "--log-level" "error")
                                (if key (list (concat "HYPERSTACK_API_KEY=" key)) one-shot-env))))
                    (list status (if (eql status 0) (hyperstack-test--json out) err))))
                (upstream-names ()
                  (pcase-let ((`(,status ,result) (one-shot "apiKeys.list" '(:refresh t))))
                    (should (eql status 0))
                    (mapcar (lambda (key) (plist-get key :name)) (plist-get result :keys)))))
      (unwind-protect
          (hyperstack-test--with-client
              ((hyperstack-program-args (list "--log-level" "warning" "--base-url" url))
               ;; The key goes in initialize, over the pipe.
               (hyperstack-api-key-function (lambda () hyperstack-test-api-key))
               (hyperstack-watch-interval 0.2)
               ;; The show-once path, whatever the server offers.
               (hyperstack-use-secret-file nil)
               (hyperstack-after-change-functions
                (list (lambda (change) (push (plist-get change :cause) changes)))))
            ;; A key that exists before Emacs looks.
            (should (eql 0 (car (one-shot "apiKeys.generate" (list :name before)))))

            ;; List.
            (let ((buffer (hyperstack-keys)))
              (should (eq buffer (get-buffer hyperstack-keys-buffer-name)))
              (with-current-buffer buffer
                (should (derived-mode-p 'hyperstack-keys-mode))
                (should (string-match-p "polling every 0.2s" mode-line-process))))
            (let ((line (hyperstack-test--line-with before)))
              (should line)
              (should (string-match-p "^ +[0-9]+ +emacs-before-" line))
              (should (string-match-p "\\*\\{8\\}-\\*\\{4\\}-\\*\\{4\\}-\\*\\{4\\}-\\*\\{8\\}" line))
              (should (string-match-p "[0-9]\\{4\\}-[0-9][0-9]-[0-9][0-9]T" line)))
            (should (= (hyperstack-test--line-count) (length (upstream-names))))
            ;; The API key went in initialize: no buffer keeps it.
            (should-not (hyperstack-test--secrets-anywhere hyperstack-test-api-key))

            ;; Generate: the secret is shown once, then is nowhere.
            (let (secret received)
              (with-current-buffer hyperstack-keys-buffer-name
                (hyperstack-test--answering
                    (list :strings (list fresh "made by the emacs test")
                          :on-read-key (lambda ()
                                         (setq secret (hyperstack-test--read-secret-buffer))
                                         ?q))
                  ;; Watch the string the answer brought, to see it wiped afterwards.
                  (let ((watch (lambda (_key string) (setq received string))))
                    (advice-add 'hyperstack--show-secret-once :before watch)
                    (unwind-protect (call-interactively #'hyperstack-generate)
                      (advice-remove 'hyperstack--show-secret-once watch)))))
              (should (stringp secret))
              (should (string-match-p "\\`\0+\\'" received))
              (should (>= (length secret) 12))
              (should-not (get-buffer "*Hyperstack secret*"))
              (let ((line (hyperstack-test--line-with fresh)))
                (should line)
                (should (string-match-p "made by the emacs test" line))
                ;; The masked key ends in the secret's last four characters.
                (should (string-match-p (regexp-quote (concat "********" (substring secret -4)))
                                        line)))
              (should (member "generate" changes))
              (should (string-match-p "its secret was shown once and is not kept"
                                      (hyperstack-test--messages)))
              (should-not (hyperstack-test--secrets-anywhere secret))
              ;; jsonrpc.el logged no message at all, so not the generate answer either.
              (let ((events (get-buffer "*hyperstack events*")))
                (when events
                  (with-current-buffer events
                    (should-not (string-match-p "\\[client-request\\]\\|\\[server-reply\\]"
                                                (buffer-string))))))
              ;; The secret shown was the real one: upstream takes it as an API key.
              (should (eql 0 (car (one-shot "apiKeys.list" '(:refresh t) secret))))

              ;; A live update caused by another process: the server's poll finds it.
              (should (eql 0 (car (one-shot "apiKeys.generate" (list :name other)))))
              (hyperstack-test--wait-for (format "%s, generated by another process" other)
                                         (lambda () (hyperstack-test--line-with other)))
              (should (member "refresh" changes))
              (let ((before-id (plist-get (seq-find (lambda (key) (equal (plist-get key :name) before))
                                                    (plist-get (cadr (one-shot "apiKeys.list")) :keys))
                                          :id)))
                (should (eql 0 (car (one-shot "apiKeys.delete" (list :id before-id))))))
              (hyperstack-test--wait-for (format "%s, deleted by another process, to go" before)
                                         (lambda () (not (hyperstack-test--line-with before))))

              ;; Rename: the prompts start from the current values.
              (hyperstack-test--goto-line-with fresh)
              (setq hyperstack-test--prompts nil)
              (with-current-buffer hyperstack-keys-buffer-name
                (hyperstack-test--answering (list :strings (list renamed "renamed by the test"))
                  (call-interactively #'hyperstack-rename)))
              (should (equal (cadr (nth 1 hyperstack-test--prompts)) fresh))
              (should (equal (cadr (nth 0 hyperstack-test--prompts)) "made by the emacs test"))
              (should-not (hyperstack-test--line-with fresh))
              (let ((line (hyperstack-test--line-with renamed)))
                (should line)
                (should (string-match-p "renamed by the test" line)))
              (should (member renamed (upstream-names)))

              ;; Refused requests are readable errors, and change nothing.
              (hyperstack-test--goto-line-with renamed)
              (let ((failure
                     (with-current-buffer hyperstack-keys-buffer-name
                       (hyperstack-test--answering (list :strings (list (make-string 201 ?x) ""))
                         (should-error (call-interactively #'hyperstack-rename)
                                       :type 'user-error)))))
                (should (string-match-p "\\`Hyperstack: could not rename key [0-9]+ (emacs-renamed-.*\\[name\\] (code -32602)\\'"
                                        (cadr failure))))
              (should (hyperstack-test--line-with renamed))
              (let ((failure (should-error (hyperstack-delete 987654321) :type 'user-error)))
                (should (string-match-p "\\`Hyperstack: could not delete key 987654321: .*987654321.* (code 1404)\\'"
                                        (cadr failure))))

              ;; Delete: answering no keeps the key, yes deletes it.
              (hyperstack-test--goto-line-with renamed)
              (setq hyperstack-test--prompts nil)
              (with-current-buffer hyperstack-keys-buffer-name
                (hyperstack-test--answering (list :yes-or-no nil)
                  (call-interactively #'hyperstack-delete)))
              (should (string-match-p (regexp-quote renamed) (car (car hyperstack-test--prompts))))
              (should (hyperstack-test--line-with renamed))
              (should (member renamed (upstream-names)))
              (hyperstack-test--goto-line-with renamed)
              (with-current-buffer hyperstack-keys-buffer-name
                (hyperstack-test--answering (list :yes-or-no t)
                  (call-interactively #'hyperstack-delete)))
              (should-not (hyperstack-test--line-with renamed))
              (should-not (member renamed (upstream-names)))
              (should (member "delete" changes))
              ;; Upstream no longer takes the deleted key's secret.
              (pcase-let ((`(,status ,err) (one-shot "apiKeys.list" '(:refresh t) secret)))
                (should (eql status 1))
                (should (string-match-p "1401" err))))

            ;; g: a refresh from the API; the buffer matches upstream.
            (with-current-buffer hyperstack-keys-buffer-name
              (revert-buffer))
            (let ((names (upstream-names)))
              (should (= (hyperstack-test--line-count) (length names)))
              (dolist (name names) (should (hyperstack-test--line-with name))))

            ;; Stop: shutdown and exit, status 0, reported as no crash.
            (let ((process hyperstack--process))
              (hyperstack-stop)
              (should-not (process-live-p process))
              (should (eql 0 (process-exit-status process))))
            (with-current-buffer hyperstack-keys-buffer-name
              (should (equal mode-line-process " [server not running]")))
            (should-not (string-match-p "hyperstack-rpc exited" (hyperstack-test--messages))))
        (delete-process (car sandbox))))))

(ert-deftest hyperstack-test-generate-with-default-settings ()
  "Generate with `hyperstack-use-secret-file' at its default, t.
A server offering capabilities.apiKeys.secretFile writes the secret
to a new 0600 file, whose path the user is told; any other server's
secret is shown once.  Either way the secret ends up in no buffer."
  (hyperstack-test--with-client
      ((hyperstack-program-args '("--log-level" "warning" "--sandbox")))
    (let* ((name (hyperstack-test--unique "emacs-default"))
           (offers-file (eq t (plist-get (plist-get (hyperstack-server-capabilities)
                                                    :apiKeys)
                                         :secretFile)))
           secret)
      (message "hyperstack-test: the server %s secretFile"
               (if offers-file "offers" "does not offer"))
      (hyperstack-keys)
      (hyperstack-test--answering
          (list :on-read-key (lambda ()
                               (setq secret (hyperstack-test--read-secret-buffer))
                               ?q))
        (hyperstack-generate name))
      (should (hyperstack-test--line-with name))
      (if (not offers-file)
          (should (stringp secret))
        (should-not secret)             ; never shown
        (let ((messages (hyperstack-test--messages)))
          (should (string-match "its secret is in \\(/.*\\.secret\\) (mode 0600)" messages))
          (let ((file (match-string 1 messages)))
            (unwind-protect
                (progn
                  (should (= #o600 (file-modes file)))
                  (should (= #o700 (file-modes (file-name-directory file))))
                  (should (string-prefix-p "emacs-default-" (file-name-nondirectory file)))
                  (setq secret (string-trim (with-temp-buffer
                                              (insert-file-contents file)
                                              (prog1 (buffer-string) (erase-buffer))))))
              (delete-file file)))))
      (should (>= (length secret) 12))
      (should-not (hyperstack-test--secrets-anywhere secret)))))

(ert-deftest hyperstack-test-server-exit-is-reported-and-recovered ()
  "A server that dies is reported, and the next command starts a new one."
  (hyperstack-test--with-client
      ((hyperstack-program-args '("--log-level" "warning" "--sandbox")))
    ;; A key made before the buffer opens, with no polling: the first listing shows it.
    (let ((name (hyperstack-test--unique "emacs-listed")))
      (hyperstack-test--answering (list :on-read-key (lambda () ?q))
        (hyperstack-generate name))
      (hyperstack-keys)
      (should (hyperstack-test--line-with name)))
    (let ((process hyperstack--process))
      (signal-process process 'kill)
      (hyperstack-test--wait-for "the report of the server's exit"
                                 (lambda ()
                                   (string-match-p "hyperstack-rpc exited (status 9)"
                                                   (hyperstack-test--messages))))
      (with-current-buffer hyperstack-keys-buffer-name
        (should (equal mode-line-process " [server not running]"))
        (revert-buffer)                 ; g starts a new server
        (should (string-match-p "\\` rev " mode-line-process)))
      (should (process-live-p hyperstack--process))
      (should-not (eq process hyperstack--process)))))

(ert-deftest hyperstack-test-remote-daemon-fans-out-changes ()
  "With `hyperstack-remote' \"auto\", a key generated by another client shows at once.
The other client is a `call --remote auto' one-shot of the same
daemon (the test's own XDG_RUNTIME_DIR, from run.sh); the daemon's
status shows the keys buffer's polling, which stops with the buffer."
  (hyperstack-test--with-client
      ((hyperstack-program-args '("--log-level" "warning" "--sandbox"))
       (hyperstack-remote "auto")
       ;; Far longer than the wait below: the key arrives by fan-out, not by a poll.
       (hyperstack-watch-interval 300))
    (let ((runtime (getenv "XDG_RUNTIME_DIR"))
          (other (hyperstack-test--unique "emacs-remote-other")))
      (should (and runtime (string-prefix-p "/tmp/hs-xdg-" runtime)))
      (cl-labels ((status ()
                    (pcase-let ((`(,code ,out ,err) (hyperstack-test--run hyperstack-test-bin
                                                                           '("daemon" "status"))))
                      (unless (eql code 0) (ert-fail (format "daemon status: %s %s" code err)))
                      (hyperstack-test--json out))))
        (hyperstack-keys)
        (let* ((daemon (status))
               (store (aref (plist-get daemon :stores) 0)))
          (should (string-prefix-p (concat runtime "/hyperstack-rpc/daemon-")
                                   (plist-get daemon :socket)))
          (should (equal (plist-get store :upstream) "sandbox"))
          (should (equal (plist-get store :pollInterval) 300.0)))
        (pcase-let ((`(,code ,_out ,err)
                     (hyperstack-test--run hyperstack-test-bin
                                           (list "call" "apiKeys.generate"
                                                 (json-serialize (list :name other))
                                                 "--sandbox" "--remote" "auto"
                                                 "--log-level" "error"))))
          (unless (eql code 0) (ert-fail (format "call --remote auto: %s %s" code err))))
        (hyperstack-test--wait-for (format "%s, generated by another client" other)
                                   (lambda () (hyperstack-test--line-with other)))
        (hyperstack-test--goto-line-with other)
        (with-current-buffer hyperstack-keys-buffer-name
          (hyperstack-test--answering (list :yes-or-no t)
            (call-interactively #'hyperstack-delete)))
        (should-not (hyperstack-test--line-with other))
        ;; Killing the keys buffer stops its polling.
        (kill-buffer hyperstack-keys-buffer-name)
        (hyperstack-test--wait-for "the daemon's store to stop polling"
                                   (lambda ()
                                     (null (plist-get (aref (plist-get (status) :stores) 0)
                                                      :pollInterval))))))))

(provide 'hyperstack-test)
;;; hyperstack-test.el ends here
