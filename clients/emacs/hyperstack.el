;;; hyperstack.el --- Hyperstack API keys through hyperstack-rpc -*- lexical-binding: t -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (jsonrpc "1.0.14"))
;; Keywords: tools, processes

;; This file is not part of GNU Emacs.

;;; Commentary:

;; `M-x hyperstack-keys' lists your Hyperstack API keys in a tabulated
;; buffer that stays current: the `hyperstack-rpc' server sends
;; `apiKeys.didChange' after every change, whoever made it (this Emacs,
;; another client of a shared daemon, or the API itself, which the
;; server polls while the buffer is open).  In that buffer:
;;
;;   g        refresh from the API      + or c   generate a key
;;   r        rename a key              d or D   delete a key (asks first)
;;   w        set the polling interval  q        quit the window
;;
;; The server is spawned through Emacs's own `jsonrpc.el', which speaks
;; the server's Content-Length framing.  A generated key's secret goes
;; to a new 0600 file when the server can write one
;; (`hyperstack-use-secret-file'); otherwise it is shown once, in a
;; buffer killed as soon as you dismiss it, and kept nowhere else: not
;; in a buffer, a variable, the kill ring, *Messages* or jsonrpc's
;; events buffer (whose message log is off for this connection).
;;
;; The API key: export HYPERSTACK_API_KEY before starting Emacs, add
;; "--api-key-file" "PATH" to `hyperstack-program-args', or set
;; `hyperstack-api-key-function'.  Add "--sandbox" to
;; `hyperstack-program-args' to try it all against the server's
;; built-in emulator of the API, with no key at all.

;;; Code:

(require 'cl-lib)
(require 'jsonrpc)
(require 'subr-x)
(require 'tabulated-list)

(defconst hyperstack-version "0.1.0"
  "Version of hyperstack.el, sent to the server as clientInfo.version.")

(defgroup hyperstack nil
  "Manage Hyperstack API keys through the hyperstack-rpc server."
  :group 'tools
  :prefix "hyperstack-")

(defcustom hyperstack-program nil
  "The hyperstack-rpc executable to run.
nil means the environment variable HYPERSTACK_RPC_BIN when it is set
\(so that a build tree or a test points every client at one binary),
else \"hyperstack-rpc\" looked up on the variable `exec-path'."
  :type '(choice (const :tag "$HYPERSTACK_RPC_BIN, else hyperstack-rpc" nil)
                 (file :tag "Executable")))

(defcustom hyperstack-program-args '("--log-level" "warning")
  "Arguments for `hyperstack-program'.
Add \"--sandbox\" to try the package against the server's built-in
emulator of the API, which needs no key.  The server's log lands in
the buffer *hyperstack events*, hence the quiet default level.
Never put the API key here: any user can read a process's
arguments.  Use \"--api-key-file\" \"PATH\", HYPERSTACK_API_KEY in the
environment, or `hyperstack-api-key-function'."
  :type '(repeat string))

(defcustom hyperstack-remote nil
  "Whether to share one hyperstack-rpc daemon with the machine's other clients.
\"auto\" adds \"--remote auto\": the server runs as a thin forwarder to
the per-user daemon, starting it when none runs.  Every editor,
agent and script doing the same then shares one cache and one rate
budget, and a key changed by any of them reaches this Emacs at once,
with no polling.  \"unix:PATH\" uses the daemon listening on PATH,
without starting one.  nil runs a server of this Emacs's own, unless
HYPERSTACK_RPC_REMOTE is set in its environment."
  :type '(choice (const :tag "Standalone (or $HYPERSTACK_RPC_REMOTE)" nil)
                 (const :tag "Shared daemon, started when none runs" "auto")
                 (string :tag "unix:PATH of a running daemon")))

(defcustom hyperstack-environment nil
  "Extra environment for the server, a list of \"VARIABLE=VALUE\" strings.
They come before `process-environment', so they win; for example
\"HYPERSTACK_API_URL=https://...\" for another upstream.  A key put
here lives in your configuration: prefer `hyperstack-api-key-function'."
  :type '(repeat string))

(defcustom hyperstack-api-key-function nil
  "Function of no arguments that returns the Hyperstack API key, or nil.
When set, the key is sent in `initialize' (initializationOptions.apiKey)
over the pipe: never on a command line, never in the environment.
Leave it nil when the server finds the key itself (HYPERSTACK_API_KEY,
--api-key-file).  For example, with auth-source:

  (setq hyperstack-api-key-function
        (lambda () (auth-source-pick-first-password
                    :host \"infrahub-api.nexgencloud.com\")))"
  :type '(choice (const :tag "The server finds the key" nil) function))

(defcustom hyperstack-watch-interval 60
  "Seconds between the server's polls of the API while the keys buffer is open.
Polling is what shows keys changed where no hyperstack-rpc of this
machine sees it (the web console, another machine).  Changes made
through this Emacs, or through the daemon shared with
`hyperstack-remote', show at once without it.  nil or 0: no polling."
  :type '(choice (const :tag "Do not poll" nil) number))

(defcustom hyperstack-request-timeout 60
  "Seconds to wait for the server's answer to one request.
The server bounds each upstream exchange itself (--timeout, 30 s by
default, with retries), so this only guards against a stuck server.
A generate that times out here may still have created a key:
refresh before you try again."
  :type 'number)

(defcustom hyperstack-notify-changes t
  "Whether to say in the echo area when the set of keys changes.
The message names the cause (generate, update, delete, refresh) and
the counts; it never holds a secret."
  :type 'boolean)

(defcustom hyperstack-use-secret-file t
  "Whether a new key's secret goes to a file, when the server can write one.
A server whose initialize result has capabilities.apiKeys.secretFile
writes the secret to a new file of mode 0600 in its secrets directory
\(its --secrets-dir; by default $XDG_STATE_HOME/hyperstack-rpc/secrets)
and answers with the file's path, so that the secret never enters
Emacs.  Delete the file once the secret is stored where it belongs.
Otherwise, or when this is nil, the secret is shown once, in a buffer
killed as soon as you dismiss it."
  :type 'boolean)

(defcustom hyperstack-after-change-functions nil
  "Functions called with the params of each apiKeys.didChange applied.
The argument is a plist (:revision :cause :added :updated :removed);
the keys in it are ApiKey plists, which never hold a secret."
  :type 'hook)

(defconst hyperstack--connection-name "hyperstack"
  "Name of the jsonrpc connection; its buffers are named after it.")

(defconst hyperstack-keys-buffer-name "*Hyperstack keys*"
  "Name of the buffer `hyperstack-keys' shows.")

(defvar hyperstack--connection nil
  "The `jsonrpc-process-connection' to the running server, or nil.")

(defvar hyperstack--process nil
  "The server process of `hyperstack--connection'.")

(defvar hyperstack--capabilities nil
  "The capabilities plist of the running server's initialize result.")

(defvar hyperstack--ready nil
  "The connection whose initialize handshake succeeded.")

(defvar hyperstack--stopping nil
  "The connection `hyperstack-stop' is ending, whose exit is no surprise.")

(defvar hyperstack--keys (make-hash-table)
  "The keys the server last reported: id -> ApiKey plist, never a secret.")

(defvar hyperstack--revision nil
  "The revision `hyperstack--keys' reflects; nil before the first listing.")

(defvar hyperstack--watching nil
  "The polling interval in seconds asked of the running server, or nil.")

;;;; The server's command line

(defun hyperstack--check-remote (remote)
  "Signal a `user-error' unless REMOTE is nil, \"auto\" or \"unix:PATH\"."
  (unless (or (null remote)
              (equal remote "auto")
              (and (stringp remote)
                   (string-match-p "\\`unix:[^\0]+\\'" remote)))
    (user-error "Hyperstack: `hyperstack-remote' must be nil (standalone), \
\"auto\" (the shared daemon, started when needed) or \"unix:PATH\" \
\(the daemon listening on PATH), not %S" remote)))

(defun hyperstack--program ()
  "The executable: `hyperstack-program', $HYPERSTACK_RPC_BIN, hyperstack-rpc."
  (let ((from-environment (getenv "HYPERSTACK_RPC_BIN")))
    (or hyperstack-program
        (and from-environment (not (string-empty-p from-environment))
             from-environment)
        "hyperstack-rpc")))

(defun hyperstack-command ()
  "Return the server's command line, a list of strings.
It is `hyperstack-program' (or its default), then
`hyperstack-program-args', then \"--remote\" and `hyperstack-remote'
when that is set."
  (hyperstack--check-remote hyperstack-remote)
  (append (list (hyperstack--program))
          hyperstack-program-args
          (and hyperstack-remote (list "--remote" hyperstack-remote))))

;;;; The connection

;; jsonrpc 1.0.20 and later (Emacs 30) hand every message, as JSON text,
;; to the functions of this hook, the events buffer's logger among them.
(defvar jsonrpc-event-hook)

(defmacro hyperstack--unobserved (&rest body)
  "Run BODY, a request whose messages carry a secret, with no one watching.
Besides the connection's own message log, which is always off,
`jsonrpc-event-hook' (in jsonrpc 1.0.20 and later) may hold other
functions that see every message; they are left out of this one.
The answer is read by a process filter that runs inside BODY's
dynamic extent, so the binding covers it too."
  (declare (indent 0) (debug t))
  `(let ((jsonrpc-event-hook nil))
     ,@body))

(defun hyperstack--empty-object ()
  "A value that encodes as {}, which the server wants for no params."
  (make-hash-table :size 1))

(defun hyperstack--quiet-events-initargs ()
  "Initargs that switch off the connection's message log.
jsonrpc.el logs each message it sends and receives in its events
buffer, and the answer to apiKeys.generate carries the secret.
jsonrpc 1.0.14 (Emacs 28) sizes that log with
:events-buffer-scrollback-size, later versions with
:events-buffer-config; a size of 0 logs nothing."
  (if (slot-exists-p 'jsonrpc-connection '-events-buffer-config)
      (list :events-buffer-config (list :size 0))
    (list :events-buffer-scrollback-size 0)))

(defun hyperstack--live-connection ()
  "Return the running connection; start the server first if there is none."
  (if (and hyperstack--connection (jsonrpc-running-p hyperstack--connection))
      hyperstack--connection
    (hyperstack--start)))

(defun hyperstack--spawn (command)
  "Start the server with COMMAND; return its `jsonrpc-process-connection'."
  (let ((process-environment (append hyperstack-environment
                                     process-environment))
        ;; The server has no use for the current directory, which may be
        ;; remote (TRAMP) or about to be deleted.
        (default-directory (expand-file-name "~/"))
        ;; jsonrpc.el expects the stderr buffer to have exactly this name.
        (stderr (format "*%s stderr*" hyperstack--connection-name)))
    (condition-case failure
        (apply #'make-instance 'jsonrpc-process-connection
               :name hyperstack--connection-name
               :process (lambda ()
                          (setq hyperstack--process
                                (make-process
                                 :name hyperstack--connection-name
                                 :command command
                                 :connection-type 'pipe
                                 :coding 'utf-8-emacs-unix
                                 :noquery t
                                 :stderr (get-buffer-create stderr))))
               :notification-dispatcher #'hyperstack--dispatch-notification
               :request-dispatcher #'hyperstack--dispatch-request
               :on-shutdown #'hyperstack--connection-ended
               (hyperstack--quiet-events-initargs))
      (file-error
       (when (get-buffer stderr) (kill-buffer stderr))
       (user-error "Hyperstack: cannot start %s (%s); install hyperstack-rpc \
or set `hyperstack-program'" (car command) (error-message-string failure))))))

(defun hyperstack--start-failure (connection failure)
  "Why CONNECTION's server did not start, given FAILURE, the error signalled.
A server that exits at start says why on its stderr (a bad key is
named by where it came from, never quoted): its first line is the
reason.  A server still running refused initialize: FAILURE says how."
  (unless (jsonrpc-running-p connection)
    (accept-process-output nil 0.1))    ; the last of its stderr
  (let* ((stderr (jsonrpc-stderr-buffer connection))
         (line (and (buffer-live-p stderr)
                    (with-current-buffer stderr
                      (car (split-string (buffer-string) "\n" t "[ \t\r]+"))))))
    (cond ((and (jsonrpc-running-p connection)
                (eq (car failure) 'jsonrpc-error))
           (hyperstack--describe-error (cdr failure)))
          ((jsonrpc-running-p connection) (error-message-string failure))
          (line (format "exit status %s: %s"
                        (process-exit-status hyperstack--process) line))
          (t (format "exit status %s"
                     (process-exit-status hyperstack--process))))))

(defun hyperstack--start ()
  "Spawn the server, do the initialize handshake, return the connection."
  (let* ((command (hyperstack-command))
         (program (car command)))
    (unless (executable-find program)
      (user-error "Hyperstack: cannot find %s; install hyperstack-rpc or \
set `hyperstack-program'" program))
    (let ((connection (hyperstack--spawn command)))
      (setq hyperstack--connection connection
            hyperstack--capabilities nil
            hyperstack--watching nil
            hyperstack--revision nil)
      (clrhash hyperstack--keys)
      (condition-case failure
          (hyperstack--initialize connection)
        (error
         (let ((reason (hyperstack--start-failure connection failure)))
           (hyperstack--discard connection)
           (user-error "Hyperstack: %s did not start (%s)" program reason))))
      (setq hyperstack--ready connection)
      ;; A server started again under an open keys buffer polls as it did.
      (when (get-buffer hyperstack-keys-buffer-name)
        (hyperstack--watch hyperstack-watch-interval))
      connection)))

(defun hyperstack--initialize (connection)
  "Send initialize, then initialized, on CONNECTION; keep its capabilities."
  (let* ((api-key (and hyperstack-api-key-function
                       (funcall hyperstack-api-key-function)))
         (params (append
                  (list :processId (emacs-pid)
                        :clientInfo (list :name "hyperstack.el"
                                          :version hyperstack-version))
                  (and api-key
                       (list :initializationOptions (list :apiKey api-key)))))
         (result (hyperstack--unobserved
                   (jsonrpc-request connection :initialize params
                                    :timeout hyperstack-request-timeout))))
    (when api-key (hyperstack--scrub-conversion-buffer))
    (setq hyperstack--capabilities (plist-get result :capabilities))
    (jsonrpc-notify connection :initialized (hyperstack--empty-object))))

(defun hyperstack--discard (connection)
  "Kill CONNECTION's server, if it is still running, and its buffers."
  (setq hyperstack--stopping connection)
  (ignore-errors (jsonrpc-shutdown connection t))
  (let ((events (get-buffer (format "*%s events*"
                                    hyperstack--connection-name))))
    (when events (kill-buffer events)))
  (when (eq connection hyperstack--connection)
    (setq hyperstack--connection nil
          hyperstack--watching nil)))

(defun hyperstack--connection-ended (connection)
  "Forget CONNECTION, whose server has exited; say so unless it was asked to."
  (when (eq connection hyperstack--connection)
    (let ((status (and hyperstack--process
                       (process-exit-status hyperstack--process))))
      (setq hyperstack--connection nil
            hyperstack--capabilities nil
            hyperstack--watching nil)
      (when (and (eq connection hyperstack--ready)
                 (not (eq connection hyperstack--stopping)))
        (message "Hyperstack: hyperstack-rpc exited (status %s); it starts \
again on the next command.  Its log: the buffer *%s events*"
                 status hyperstack--connection-name))
      (hyperstack--render))))

(defun hyperstack--dispatch-request (_connection method _params)
  "Refuse METHOD: the server never asks the client anything."
  (jsonrpc-error :code -32601
                 :message (format "%s is not a client method" method)))

(defun hyperstack--dispatch-notification (connection method params)
  "Handle the notification METHOD with PARAMS from CONNECTION."
  (when (and (eq connection hyperstack--connection)
             (eq method 'apiKeys.didChange))
    (hyperstack--apply-change params)))

;;;; Requests

(defun hyperstack--scrub-conversion-buffer ()
  "Erase the last text Emacs decoded or encoded for a process.
Emacs decodes each chunk a process writes, and encodes each string
sent to one, in the reused buffer \" *code-conversion-work*\", which
keeps the last text until the next conversion.  After the answer to
apiKeys.generate that is the secret, and after initialize it can be
the API key of `hyperstack-api-key-function'."
  (let ((work (get-buffer " *code-conversion-work*")))
    (when work
      (with-current-buffer work
        (let ((inhibit-read-only t)) (erase-buffer))))))

(defun hyperstack--describe-error (failure)
  "A readable sentence for FAILURE, the data of a `jsonrpc-error' signal."
  (let* ((fields (cl-remove-if-not #'consp failure))
         (code (alist-get 'jsonrpc-error-code fields))
         (text (or (alist-get 'jsonrpc-error-message fields) "unknown error"))
         (data (alist-get 'jsonrpc-error-data fields))
         (field (and (listp data) (plist-get data :field)))
         (retryable (and (listp data) (eq (plist-get data :retryable) t))))
    (cond ((null code)                  ; jsonrpc.el's own timeout
           (format "no answer within %s s (it may still happen: refresh \
with g before trying again)" hyperstack-request-timeout))
          ((eql code -1) "hyperstack-rpc exited before answering")
          (t (concat text
                     (and field (format " [%s]" field))
                     (format " (code %s)" code)
                     (and retryable "; trying again later may work"))))))

(defun hyperstack--request-on (connection method params what)
  "Send METHOD with PARAMS on CONNECTION, wait, and return its result.
WHAT, such as \"rename key 7\", names the action in the `user-error'
that an error answer becomes."
  (condition-case failure
      (jsonrpc-request connection method
                       (or params (hyperstack--empty-object))
                       :timeout hyperstack-request-timeout)
    (jsonrpc-error
     (user-error "Hyperstack: could not %s: %s"
                 what (hyperstack--describe-error (cdr failure))))))

(defun hyperstack--request (method params what)
  "Send METHOD with PARAMS, starting the server if needed; return the result.
WHAT names the action for the error message; see
`hyperstack--request-on'."
  (hyperstack--request-on (hyperstack--live-connection) method params what))

(defun hyperstack-server-capabilities ()
  "The running server's capabilities plist, starting the server if needed."
  (hyperstack--live-connection)
  hyperstack--capabilities)

;;;; The keys

(defun hyperstack--without-secret (key)
  "KEY, an ApiKey plist, without any :secret member."
  (cl-loop for (name value) on key by #'cddr
           unless (eq name :secret) append (list name value)))

(defun hyperstack--remember (keys)
  "Put KEYS, a sequence of ApiKey plists, in `hyperstack--keys'."
  (mapc (lambda (key)
          (puthash (plist-get key :id) (hyperstack--without-secret key)
                   hyperstack--keys))
        keys))

(defun hyperstack--store-listing (result)
  "Take the keys from RESULT of apiKeys.list, unless a newer change is known."
  (let ((revision (plist-get result :revision)))
    (when (or (null hyperstack--revision) (>= revision hyperstack--revision))
      (clrhash hyperstack--keys)
      (hyperstack--remember (plist-get result :keys))
      (setq hyperstack--revision revision))))

(defun hyperstack--list (&optional refresh)
  "Load the keys from the server; with REFRESH, it reloads them from the API."
  (hyperstack--store-listing
   (hyperstack--request :apiKeys.list
                        (if refresh
                            (list :refresh t)
                          (hyperstack--empty-object))
                        "list the API keys")))

(defun hyperstack--describe-change (change)
  "A one-line summary of CHANGE, the params of apiKeys.didChange."
  (format "Hyperstack: API keys changed (%s, revision %s): \
%d added, %d updated, %d removed"
          (plist-get change :cause) (plist-get change :revision)
          (length (plist-get change :added))
          (length (plist-get change :updated))
          (length (plist-get change :removed))))

(defun hyperstack--apply-change (change)
  "Apply CHANGE, the params of apiKeys.didChange, to the keys and their buffer.
A change no newer than the known revision was applied already.
Before the first listing there is nothing to apply it to: that
listing brings the whole state."
  (let ((revision (plist-get change :revision)))
    (when (and hyperstack--revision (> revision hyperstack--revision))
      (hyperstack--remember (plist-get change :added))
      (hyperstack--remember (plist-get change :updated))
      (mapc (lambda (id) (remhash id hyperstack--keys))
            (plist-get change :removed))
      (setq hyperstack--revision revision)
      (hyperstack--render)
      (when hyperstack-notify-changes
        ;; A background event: the echo area, not a line in *Messages*.
        (let ((message-log-max nil))
          (message "%s" (hyperstack--describe-change change))))
      (run-hook-with-args 'hyperstack-after-change-functions change))))

(defun hyperstack--one-line (text)
  "TEXT with its control characters (newlines, tabs) shown as spaces."
  (replace-regexp-in-string "[[:cntrl:]]" " " (or text "") t t))

(defun hyperstack--entry (key)
  "The `tabulated-list-entries' entry of KEY: its id, then its columns."
  (list (plist-get key :id)
        (vector (number-to-string (plist-get key :id))
                (hyperstack--one-line (plist-get key :name))
                (hyperstack--one-line (plist-get key :description))
                (or (plist-get key :maskedKey) "-")
                (or (plist-get key :createdAt) "-"))))

(defun hyperstack--sort-by-id (a b)
  "Whether the entry A comes before the entry B, in numeric id order."
  (< (car a) (car b)))

(defun hyperstack--mode-line ()
  "The keys buffer's `mode-line-process': revision, polling, server state."
  (if (not hyperstack--connection)
      " [server not running]"
    (concat (if hyperstack--revision (format " rev %s" hyperstack--revision) "")
            (if hyperstack--watching
                (format ", polling every %ss" hyperstack--watching)
              ""))))

(defun hyperstack--fill-entries ()
  "Set the current buffer's entries and mode line from the known keys."
  (setq tabulated-list-entries
        (mapcar #'hyperstack--entry (hash-table-values hyperstack--keys)))
  (setq mode-line-process (hyperstack--mode-line)))

(defun hyperstack--goto-id (id)
  "Move to the line of the key ID, if it is listed; return whether it is."
  (goto-char (point-min))
  (while (and (not (eobp)) (not (equal (tabulated-list-get-id) id)))
    (forward-line 1))
  (not (eobp)))

(defun hyperstack--render ()
  "Redraw the keys buffer, if there is one, from the known keys.
Each window showing it stays on the key it was on."
  (let ((buffer (get-buffer hyperstack-keys-buffer-name)))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (let ((windows
               (mapcar (lambda (window)
                         (cons window (save-excursion
                                        (goto-char (window-point window))
                                        (tabulated-list-get-id))))
                       (get-buffer-window-list buffer nil t))))
          (hyperstack--fill-entries)
          (tabulated-list-print t)
          (dolist (window windows)
            (save-excursion
              (when (and (cdr window) (hyperstack--goto-id (cdr window)))
                (set-window-point (car window) (point))))))
        (force-mode-line-update)))))

(defun hyperstack--revert ()
  "Reload the keys from the API; on `tabulated-list-revert-hook' (g)."
  (hyperstack--list t)
  (hyperstack--fill-entries))

;;;; Polling

(defun hyperstack--watch (interval &optional force)
  "Ask the server to poll the API every INTERVAL seconds (nil or 0: stop).
Nothing is sent when the server already polls at that interval for
this client.  Stopping is only asked for when this client started
the polling, or with FORCE: the user may have configured polling with
--poll-interval."
  (let* ((seconds (if (and interval (> interval 0)) interval 0))
         (wanted (and (> seconds 0) seconds)))
    (when (or force (not (equal wanted hyperstack--watching)))
      (hyperstack--request :apiKeys.watch (list :interval seconds)
                           (format "poll every %s s" seconds))
      (setq hyperstack--watching wanted)
      (hyperstack--render))))

(defun hyperstack--stop-watching ()
  "Stop the server's polling, which only the keys buffer needs.
It is a notification, which does not wait for an answer: it runs
from the keys buffer's `kill-buffer-hook'."
  (when (and hyperstack--watching hyperstack--connection
             (jsonrpc-running-p hyperstack--connection))
    (jsonrpc-notify hyperstack--connection :apiKeys.watch (list :interval 0))
    (setq hyperstack--watching nil)))

(defun hyperstack-watch (seconds)
  "Make the server poll the API every SECONDS, to see keys changed elsewhere.
0 stops it.  The keys buffer asks for `hyperstack-watch-interval'
when it opens.  Changes made through this server, or its shared
daemon, show without polling."
  (interactive
   (list (read-number "Poll the API every how many seconds (0 stops)? "
                      (or hyperstack--watching hyperstack-watch-interval 60))))
  (hyperstack--watch seconds t)
  (if (> seconds 0)
      (message "Hyperstack: polling the API every %s s" seconds)
    (message "Hyperstack: polling stopped")))

;;;; Commands

(defun hyperstack--read-name (prompt &optional initial)
  "Read a key name with PROMPT, starting from INITIAL; refuse an empty one."
  (let ((name (string-trim (read-string prompt initial))))
    (when (string-empty-p name)
      (user-error "Hyperstack: a key needs a name"))
    name))

(defun hyperstack--key-label (id)
  "\"ID (NAME)\" for the key ID, or just ID when its name is not known."
  (let ((key (gethash id hyperstack--keys)))
    (if key
        (format "%s (%s)" id (hyperstack--one-line (plist-get key :name)))
      (format "%s" id))))

(defun hyperstack--read-key-id (prompt)
  "The id of the key on the keys buffer's current line, else read with PROMPT."
  (or (and (derived-mode-p 'hyperstack-keys-mode) (tabulated-list-get-id))
      (progn
        (unless hyperstack--revision (hyperstack--list))
        (let ((choices (mapcar (lambda (id)
                                 (cons (hyperstack--key-label id) id))
                               (sort (hash-table-keys hyperstack--keys) #'<))))
          (unless choices (user-error "Hyperstack: there are no API keys"))
          (cdr (assoc (completing-read prompt choices nil t) choices))))))

(defun hyperstack--secret-file-name (name)
  "A new file name for the secret of the key NAME.
It is relative, and has no slash: the server puts it in its secrets
directory, and creates it, refusing to overwrite a file."
  (let ((stem (replace-regexp-in-string "[^[:alnum:]_.-]+" "-" name t t)))
    (format "%s-%s.secret" (substring stem 0 (min (length stem) 60))
            (format-time-string "%Y%m%dT%H%M%S%3N"))))

(defun hyperstack--secret-file-wanted-p ()
  "Whether to ask the running server to write the secret to a file."
  (and hyperstack-use-secret-file
       (eq t (plist-get (plist-get hyperstack--capabilities :apiKeys)
                        :secretFile))))

(defun hyperstack--show-secret-once (key secret)
  "Show SECRET, the new KEY's secret, until a key is pressed; then forget it.
The buffer holding it is killed, and the string SECRET zeroed, on
the way out, even on \\[keyboard-quit].  In a graphical frame, w
copies the secret to the system clipboard (not the kill ring)."
  (let ((buffer (generate-new-buffer "*Hyperstack secret*")))
    (unwind-protect
        (progn
          (with-current-buffer buffer
            (buffer-disable-undo)
            (insert (format "The secret of the new API key %s, shown once:\n\n"
                            (hyperstack--one-line
                             (format "%s (%s)" (plist-get key :id)
                                     (plist-get key :name))))
                    "    " secret "\n\n"
                    "Store it now (a password manager, a 0600 file):\n"
                    "Hyperstack never shows it again.  If it is lost,\n"
                    "delete the key and generate another.\n")
            (setq buffer-read-only t))
          (save-window-excursion
            (pop-to-buffer buffer)
            (let ((prompt (if (display-graphic-p)
                              "w copies the secret to the clipboard; \
any other key forgets it "
                            "Copy the secret with the terminal's selection; \
any key forgets it ")))
              (while (and (eq (read-key prompt) ?w) (display-graphic-p))
                (gui-set-selection 'CLIPBOARD (substring-no-properties secret))
                (setq prompt "Copied.  Press any key to forget the secret ")))))
      (with-current-buffer buffer
        (let ((inhibit-read-only t)) (erase-buffer)))
      (kill-buffer buffer)
      (clear-string secret))))

(defun hyperstack-generate (name &optional description)
  "Generate a new API key named NAME, with DESCRIPTION (nil or \"\": none).
Its secret exists only in the server's answer.  It goes to a new
0600 file when the server can write one (see
`hyperstack-use-secret-file'); otherwise it is shown once, until you
dismiss it, and then forgotten.  Returns the new key's id."
  (interactive (list (hyperstack--read-name "Name of the new API key: ")
                     (read-string "Description (optional): ")))
  (hyperstack--live-connection)
  (let* ((secret-file (and (hyperstack--secret-file-wanted-p)
                           (hyperstack--secret-file-name name)))
         (result (unwind-protect
                     (hyperstack--unobserved
                       (hyperstack--request
                        :apiKeys.generate
                        (append (list :name name)
                                (and description
                                     (not (string-empty-p description))
                                     (list :description description))
                                (and secret-file
                                     (list :secretFile secret-file)))
                        (format "generate key %s" name)))
                   (hyperstack--scrub-conversion-buffer)))
         (key (plist-get result :key))
         (label (hyperstack--one-line (format "%s (%s)" (plist-get key :id)
                                              (plist-get key :name))))
         (secret (plist-get key :secret))
         (written (or (plist-get result :secretFile)
                      (plist-get key :secretFile))))
    (cond ((stringp secret)
           (hyperstack--show-secret-once key secret)
           (message "Hyperstack: generated key %s; its secret was shown once \
and is not kept" label))
          ((stringp written)
           (message "Hyperstack: generated key %s; its secret is in %s \
\(mode 0600)" label written))
          (t (message "Hyperstack: generated key %s, but the server sent no \
secret" label)))
    (plist-get key :id)))

(defun hyperstack-rename (id name description)
  "Give the key ID the name NAME and the description DESCRIPTION.
A nil or empty DESCRIPTION clears it.  Interactively the key is the
one on the current line of the keys buffer, and both prompts start
from its current values."
  (interactive
   (let* ((id (hyperstack--read-key-id "Rename key: "))
          (key (gethash id hyperstack--keys)))
     (list id
           (hyperstack--read-name (format "Rename key %s to: " id)
                                  (plist-get key :name))
           (read-string (format "Description of key %s (empty clears it): " id)
                        (plist-get key :description)))))
  (let ((result (hyperstack--request
                 :apiKeys.update
                 (list :id id :name name
                       :description (and description
                                         (not (string-empty-p description))
                                         description))
                 (format "rename key %s" (hyperstack--key-label id)))))
    (message "Hyperstack: key %s is now %s" id
             (hyperstack--one-line (plist-get (plist-get result :key) :name)))
    id))

(defun hyperstack-delete (id &optional confirm)
  "Delete the key ID: programs that use it stop working.
With CONFIRM (always, when called interactively), ask first.
Interactively the key is the one on the keys buffer's current line."
  (interactive (list (hyperstack--read-key-id "Delete key: ") t))
  (let ((label (hyperstack--key-label id)))
    (if (and confirm
             (not (yes-or-no-p
                   (format "Programs using key %s stop working.  Delete it? "
                           label))))
        (progn (message "Hyperstack: key %s kept" label) nil)
      (hyperstack--request :apiKeys.delete (list :id id)
                           (format "delete key %s" label))
      (message "Hyperstack: deleted key %s" label)
      id)))

(defun hyperstack-stop ()
  "Shut the server down cleanly: shutdown, then exit.
It starts again on the next command that needs it."
  (interactive)
  (let ((connection hyperstack--connection))
    (when connection
      (setq hyperstack--stopping connection)
      (when (jsonrpc-running-p connection)
        (ignore-errors
          (jsonrpc-request connection :shutdown (hyperstack--empty-object)
                           :timeout 5))
        (ignore-errors
          (jsonrpc-notify connection :exit (hyperstack--empty-object)))
        (with-timeout (5 nil)
          (while (jsonrpc-running-p connection)
            (accept-process-output nil 0.05))))
      (hyperstack--discard connection)
      (hyperstack--render))))

;;;; The keys buffer

(defvar hyperstack-keys-mode-map
  (let ((map (make-sparse-keymap)))
    (set-keymap-parent map tabulated-list-mode-map)
    (define-key map "+" #'hyperstack-generate)
    (define-key map "c" #'hyperstack-generate)
    (define-key map "r" #'hyperstack-rename)
    (define-key map "d" #'hyperstack-delete)
    (define-key map "D" #'hyperstack-delete)
    (define-key map "w" #'hyperstack-watch)
    map)
  "Keymap of the keys buffer: g refresh, + or c generate, r rename, d delete.")

(define-derived-mode hyperstack-keys-mode tabulated-list-mode "Hyperstack-Keys"
  "Major mode of the buffer listing Hyperstack API keys.
The server's apiKeys.didChange notifications keep it current; g
reloads from the API.  Killing the buffer stops the server's polling.
\\{hyperstack-keys-mode-map}"
  (setq tabulated-list-format
        (vector (list "ID" 8 #'hyperstack--sort-by-id :right-align t)
                (list "Name" 24 t)
                (list "Description" 28 t)
                ;; 32 characters of mask, then the secret's last four.
                (list "Key" 36 nil)
                (list "Created" 20 t)))
  (setq tabulated-list-padding 1)
  (setq tabulated-list-sort-key (cons "ID" nil))
  (add-hook 'tabulated-list-revert-hook #'hyperstack--revert nil t)
  (add-hook 'kill-buffer-hook #'hyperstack--stop-watching nil t)
  (tabulated-list-init-header))

;;;###autoload
(defun hyperstack-keys (&optional refresh)
  "List the Hyperstack API keys in a buffer that stays current.
With a prefix argument REFRESH, reload them from the API first.
While the buffer is open, the server polls the API every
`hyperstack-watch-interval' seconds, to show changes made elsewhere.
\\<hyperstack-keys-mode-map>In it, \\[revert-buffer] refreshes, \
\\[hyperstack-generate] generates, \\[hyperstack-rename] renames, \
\\[hyperstack-delete] deletes."
  (interactive "P")
  (hyperstack--list refresh)
  (let ((buffer (get-buffer-create hyperstack-keys-buffer-name)))
    (with-current-buffer buffer
      (unless (derived-mode-p 'hyperstack-keys-mode)
        (hyperstack-keys-mode)))
    (hyperstack--watch hyperstack-watch-interval)
    (hyperstack--render)
    (pop-to-buffer-same-window buffer)
    buffer))

(provide 'hyperstack)
;;; hyperstack.el ends here
