import APIKeyStore
import Credentials
import HyperstackSandbox
import InfrahubClient
import LogCaptureSupport
import Testing

/// A generated secret reaches the caller once and is kept nowhere else.
@Suite struct KeyStoreSecretTests {
    @Test func generatedSecretIsNeverCachedNotifiedOrLogged() async throws {
        let fixture = try KeyStoreFixture(pollInterval: .milliseconds(30))
        _ = try await fixture.store.list()

        let (generated, _) = try await fixture.store.generate(name: "secretive", description: nil)
        let secret = generated.secret.revealed
        #expect(secret.count >= 12)
        #expect(await eventually { await fixture.requests(.list) >= 3 })
        await fixture.store.shutdown()

        let cached = try #require(fixture.store.cachedList())
        let stored = try #require(cached.snapshot.keys.first { $0.id == generated.record.id })
        let maskedKey = try #require(stored.maskedKey)
        #expect(!maskedKey.contains(secret))
        #expect(maskedKey.hasSuffix(String(secret.suffix(4))))
        #expect(!"\(cached)".contains(secret))
        #expect(!"\(fixture.changes.all)".contains(secret))
        #expect(fixture.logs.all.allSatisfy { !$0.text.contains(secret) && !$0.text.contains(KeyStoreFixture.apiKey) })
        // The one place it appears: the generate result, with the masked record beside it.
        #expect(generated.record == stored)
    }
}
