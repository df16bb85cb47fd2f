import APIKeyStore
import Credentials
import Crypto
import DaemonWire
import HyperstackRPCHost
import HyperstackSandbox
import InfrahubClient
import Foundation
import JSONRPC
import Locking
import Logging
import OrderedCollections
import Synchronization

/// The daemon's key stores, one per upstream and credential, and its rate limiters, one
/// per upstream host: what makes the machine one client of Infrahub.
///
/// Sessions with the same base URL, the same API key and the same access token (compared by
/// SHA-256) share a store, its cache, its poll loop and its change stream; sessions with
/// different keys or tokens never share one, so they never see each other's keys or
/// notifications, and none of them generates with another's token. `--sandbox`
/// sessions share one store per sandbox state file (or one in-memory sandbox). Stores
/// outlive their sessions, so a one-shot `call` finds the cache warm.
final class StoreRegistry: Sendable {
    /// What identifies a store: where it points and whose key and token it uses.
    struct Key: Hashable, Sendable {
        /// The base URL, `sandbox`, or `sandbox:<state file>`.
        var upstream: String
        /// `sha256:` and 16 hex digits of the key's SHA-256, or `nil` without a key.
        var keyFingerprint: String?
        /// The same for the access token, or `nil` without one.
        var accessTokenFingerprint: String?
        /// Where the rate limiter is shared: the URL's host, or the sandbox itself.
        var limiterScope: String
    }

    private final class Entry: Sendable {
        let server: HyperstackServer
        /// Held while the daemon lives: a second process on the same state file is refused.
        let stateLock: SandboxStateLock?
        let sessions = Atomic<Int>(0)

        init(server: HyperstackServer, stateLock: SandboxStateLock?) {
            self.server = server
            self.stateLock = stateLock
        }
    }

    private struct State: Sendable {
        /// In the order they were opened, as `daemon status` lists them.
        var stores: OrderedDictionary<Key, Entry> = [:]
        var limiters: [String: RequestRateLimiter] = [:]
    }

    private let state = Lock(State())
    private let logger: Logger
    /// How long to wait for another process's lock on a sandbox state file.
    private let stateLockWait: Duration

    /// - Parameter stateLockWait: zero for the daemon; a private session waits a little for
    ///   the lock of the daemon that just died to be released.
    init(logger: Logger, stateLockWait: Duration = .zero) {
        self.logger = logger
        self.stateLockWait = stateLockWait
    }

    /// The store for `hello`, made on first use; counts one more session on it.
    func attach(_ hello: SessionHello) throws -> (server: HyperstackServer, key: Key) {
        let key = Self.key(for: hello)
        return try state.withLock { state in
            let limiter = state.limiters[key.limiterScope] ?? RequestRateLimiter(requestsPerMinute: hello.rateLimit)
            state.limiters[key.limiterScope] = limiter
            limiter.lowerBudget(to: hello.rateLimit)
            if let entry = state.stores[key] {
                entry.sessions.add(1, ordering: .relaxed)
                return (entry.server, key)
            }
            let stateLock = try hello.sandboxState.map { try SandboxStateLock(statePath: $0, wait: stateLockWait) }
            let server = try HyperstackServer(
                settings: Self.settings(for: hello),
                shared: SharedUpstream(credentials: hello.credentials, rateLimiter: limiter),
                logger: logger)
            let entry = Entry(server: server, stateLock: stateLock)
            entry.sessions.add(1, ordering: .relaxed)
            state.stores[key] = entry
            logger.info(
                "Opened a key store",
                metadata: [
                    "upstream": "\(key.upstream)", "key": "\(key.keyFingerprint ?? "none")",
                    "accessToken": "\(key.accessTokenFingerprint ?? "none")",
                ])
            return (server, key)
        }
    }

    /// One session fewer on the store of `key`.
    func detach(_ key: Key) {
        let entry = state.withLock { $0.stores[key] }
        entry?.sessions.subtract(1, ordering: .relaxed)
    }

    /// Every store, in the order they were opened, for `daemon status`.
    func storeStatus() async -> [StoreStatus] {
        let entries = state.withLock { state in state.stores.map { ($0.key, $0.value) } }
        var result: [StoreStatus] = []
        for (key, entry) in entries {
            let snapshot = entry.server.store.publishedSnapshot
            let interval = await entry.server.store.currentPollInterval
            result.append(
                StoreStatus(
                    upstream: key.upstream, keyFingerprint: key.keyFingerprint,
                    accessTokenFingerprint: key.accessTokenFingerprint, revision: snapshot.revision,
                    keys: snapshot.keys.count, pollInterval: interval?.secondsValue,
                    sessions: entry.sessions.load(ordering: .relaxed)))
        }
        return result
    }

    /// The strictest budget among the limiters, the requests they let through in the last
    /// minute, and since the start.
    func budget() -> (limit: Int, usedLastMinute: Int, total: Int) {
        let limiters = state.withLock { Array($0.limiters.values) }
        let limit = limiters.map(\.budget).min() ?? Settings.defaults.rateLimit
        return (limit, limiters.reduce(0) { $0 + $1.usedLastMinute }, limiters.reduce(0) { $0 + $1.requestCount })
    }

    /// Stops every store's polling and closes upstream connections.
    func shutdown() async {
        let servers = state.withLock { state in state.stores.values.map(\.server) }
        for server in servers { await server.shutdown() }
    }

    static func key(for hello: SessionHello) -> Key {
        if hello.sandbox {
            let upstream = hello.sandboxState.map { "sandbox:\($0)" } ?? "sandbox"
            return Key(upstream: upstream, keyFingerprint: nil, accessTokenFingerprint: nil, limiterScope: upstream)
        }
        return Key(
            upstream: hello.baseURL, keyFingerprint: fingerprint(of: hello.credentials.apiKey),
            accessTokenFingerprint: fingerprint(of: hello.credentials.accessToken),
            limiterScope: "host:" + host(of: hello.baseURL))
    }

    /// `sha256:` and the first 16 hex digits of the secret's SHA-256: enough to tell two apart,
    /// nothing to recover one from.
    static func fingerprint(of secret: SecretString?) -> String? {
        secret.map { "sha256:" + String(SHA256.hash(data: Array($0.revealed.utf8)).hexDigits.prefix(16)) }
    }

    /// The host (and port) of a base URL, in lower case: `infrahub-api.nexgencloud.com`.
    static func host(of url: String) -> String {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return rest.lowercased()
    }

    private static func settings(for hello: SessionHello) -> Settings {
        Settings(
            sandbox: hello.sandbox, sandboxState: hello.sandboxState, baseURL: hello.baseURL, apiKeyFile: nil,
            accessTokenFile: nil,
            cacheTTL: hello.cacheTTL, pollInterval: 0, timeout: hello.timeout, rateLimit: hello.rateLimit,
            framing: .lsp, maxMessageBytes: hello.maxMessageBytes, maxInFlight: hello.maxInFlight, logLevel: nil,
            logFile: nil)
    }
}

/// One store as `daemon status` shows it.
struct StoreStatus: Sendable, Equatable {
    var upstream: String
    var keyFingerprint: String?
    var accessTokenFingerprint: String?
    var revision: Int64
    var keys: Int
    var pollInterval: Double?
    var sessions: Int
}
