import Credentials
import DaemonWire
import InfrahubClient
import Logging
import Testing
@testable import HyperstackDaemon

/// Which sessions share a store, and which a rate limiter.
@Suite struct StoreRegistryTests {
    private func hello(
        url: String = "https://api.example.test/v1", key: String? = "key-a", token: String? = nil, sandbox: Bool = false,
        state: String? = nil, rate: Int = 500
    ) -> SessionHello {
        SessionHello(
            sandbox: sandbox, sandboxState: state, baseURL: url,
            credentials: UpstreamCredentials(apiKey: key.map(SecretString.init), accessToken: token.map(SecretString.init)),
            cacheTTL: 30,
            pollInterval: 0, timeout: 30, rateLimit: rate, maxMessageBytes: 1 << 20, maxInFlight: 16)
    }

    @Test func oneStorePerUpstreamAndKeyAndOneLimiterPerHost() {
        let a = StoreRegistry.key(for: hello())
        #expect(a == StoreRegistry.key(for: hello()))
        #expect(a.keyFingerprint?.hasPrefix("sha256:") == true)
        #expect(a.keyFingerprint?.contains("key-a") == false)
        let otherKey = StoreRegistry.key(for: hello(key: "key-b"))
        #expect(otherKey != a)
        #expect(otherKey.limiterScope == a.limiterScope)
        let otherPath = StoreRegistry.key(for: hello(url: "https://API.example.test/v2"))
        #expect(otherPath != a)
        #expect(otherPath.limiterScope == a.limiterScope)
        #expect(StoreRegistry.key(for: hello(url: "https://other.test/v1")).limiterScope != a.limiterScope)
        #expect(StoreRegistry.key(for: hello(sandbox: true)).upstream == "sandbox")
        #expect(StoreRegistry.key(for: hello(sandbox: true, state: "/s.json")).upstream == "sandbox:/s.json")
    }

    @Test func theAccessTokenIsPartOfAStoresIdentityAndOnlyAsAFingerprint() {
        let keyOnly = StoreRegistry.key(for: hello())
        #expect(keyOnly.accessTokenFingerprint == nil)
        let withToken = StoreRegistry.key(for: hello(token: "token-a-0123456789"))
        #expect(withToken != keyOnly, "a session with a token never shares the store of a session without one")
        #expect(withToken.keyFingerprint == keyOnly.keyFingerprint)
        #expect(withToken == StoreRegistry.key(for: hello(token: "token-a-0123456789")))
        #expect(withToken != StoreRegistry.key(for: hello(token: "token-b-0123456789")))
        #expect(withToken.limiterScope == keyOnly.limiterScope, "one host, one budget, whatever the credential")
        let fingerprint = withToken.accessTokenFingerprint ?? ""
        #expect(fingerprint.hasPrefix("sha256:") && fingerprint.count == "sha256:".count + 16)
        #expect(!fingerprint.contains("token-a"))
        let tokenOnly = StoreRegistry.key(for: hello(key: nil, token: "token-a-0123456789"))
        #expect(tokenOnly.keyFingerprint == nil && tokenOnly.accessTokenFingerprint == fingerprint)
    }

    @Test func hostsAreReadFromURLs() {
        #expect(StoreRegistry.host(of: "https://infrahub-api.nexgencloud.com/v1") == "infrahub-api.nexgencloud.com")
        #expect(StoreRegistry.host(of: "http://127.0.0.1:8080/v1?x") == "127.0.0.1:8080")
        #expect(StoreRegistry.host(of: "https://user@Example.COM/") == "example.com")
    }

    @Test func sessionsOfOneKeyShareAStoreAndTheStrictestBudget() throws {
        let registry = StoreRegistry(logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let first = try registry.attach(hello(sandbox: true, rate: 500))
        let second = try registry.attach(hello(sandbox: true, rate: 60))
        #expect(first.server === second.server)
        #expect(registry.budget().limit == 60)
        let other = try registry.attach(hello(key: "key-c"))
        #expect(other.server !== first.server)
        registry.detach(first.key)
    }
}
