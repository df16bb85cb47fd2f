import Credentials
import DaemonWire
import Testing

/// The protocol a session speaks and where its secrets go, as the hello carries them.
@Suite struct SessionHelloProtocolTests {
    private func hello(_ clientProtocol: SessionHello.ClientProtocol, _ secretFiles: SessionHello.SecretLocations?) -> DaemonHello {
        DaemonHello(
            kind: .session, fingerprint: "f",
            session: SessionHello(
                sandbox: true, sandboxState: nil, baseURL: "u", credentials: .none, cacheTTL: 1, pollInterval: 0,
                timeout: 1, rateLimit: 1, maxMessageBytes: 9, maxInFlight: 1, clientProtocol: clientProtocol,
                secretFiles: secretFiles))
    }

    private func line(_ session: String) -> [UInt8] {
        Array(#"{"hyperstackDaemon":1,"fingerprint":"a","kind":"session","session":{"sandbox":true,"baseURL":"u","cacheTTL":1,"pollInterval":0,"timeout":1,"rateLimit":1,"maxMessageBytes":9,"maxInFlight":1\#(session)}}"#.utf8)
    }

    @Test func anMCPHelloWithItsSecretLocationsRoundTrips() throws {
        let locations = SessionHello.SecretLocations(
            secretsDirectory: "/home/u/.local/state/hyperstack-rpc/secrets", allowedDirectories: ["/srv/keys", "/"])
        for clientProtocol in [SessionHello.ClientProtocol.mcp(inlineSecrets: false), .mcp(inlineSecrets: true), .jsonRPC] {
            let original = hello(clientProtocol, locations)
            #expect(try DaemonHello(decoding: Array(original.encoded().dropLast())) == original)
        }
        let bare = hello(.jsonRPC, nil)
        #expect(try DaemonHello(decoding: Array(bare.encoded().dropLast())) == bare)
        // A JSON-RPC hello reads as it always did: no protocol member.
        #expect(!String(decoding: bare.encoded(), as: UTF8.self).contains("protocol"))
    }

    @Test func aHelloWithoutAProtocolIsAJSONRPCSessionsWithTheDaemonsSecretsDirectory() throws {
        let decoded = try DaemonHello(decoding: line(""))
        #expect(decoded.session?.clientProtocol == .jsonRPC)
        #expect(decoded.session?.secretFiles == nil)
        #expect(try DaemonHello(decoding: line(#","protocol":null,"secretFiles":null"#)).session?.clientProtocol == .jsonRPC)
    }

    @Test func secretPathsTheDaemonCannotTakeAsTheyStandAreRefused() {
        let bad = [
            #","protocol":"lsp""#,
            #","protocol":"mcp""#,
            #","protocol":"mcp","mcp":{"inlineSecrets":"yes"}"#,
            #","secretFiles":{"secretsDir":"secrets","allowSecretsIn":[]}"#,
            #","secretFiles":{"secretsDir":"/a/../etc","allowSecretsIn":[]}"#,
            #","secretFiles":{"secretsDir":"/a/./b","allowSecretsIn":[]}"#,
            #","secretFiles":{"secretsDir":"/a//b","allowSecretsIn":[]}"#,
            #","secretFiles":{"secretsDir":"/a/b/","allowSecretsIn":[]}"#,
            #","secretFiles":{"secretsDir":"/a\nb","allowSecretsIn":[]}"#,
            #","secretFiles":{"secretsDir":"/a","allowSecretsIn":["rel"]}"#,
            #","secretFiles":{"secretsDir":"/a","allowSecretsIn":"/b"}"#,
            #","secretFiles":{"secretsDir":"/a"}"#,
            #","secretFiles":{"allowSecretsIn":[]}"#,
            #","secretFiles":"/a""#,
        ]
        for text in bad {
            #expect(throws: DaemonWireError.self, "\(text)") { try DaemonHello(decoding: line(text)) }
        }
        let long = "/" + String(repeating: "a", count: 4096)
        #expect(!SessionHello.SecretLocations.isNormalAbsolutePath(long))
        #expect(SessionHello.SecretLocations.isNormalAbsolutePath("/a/b c/.hidden/..x"))
    }
}
