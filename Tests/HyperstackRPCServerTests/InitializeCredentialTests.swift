import Credentials
import HyperstackProtocol
import HyperstackRPCServer
import InfrahubClient
import JSONRPC
import JanssonJSON
import Testing

/// `initialize` validates its API key where it is loaded (issue 10, item 1), with the same check
/// as the environment and the key file: -32602 naming the field and the problem, never the key.
@Suite struct InitializeCredentialTests {
    private let key = "hsk-0123456789abcdef0123456789abcdef"

    @Test(arguments: ["\r\nX-Injected: yes", "\n", "\n\nsecond", "\u{0}", "\t", " ", "é", "\u{1B}[31m", "\u{7F}"])
    func refusesKeysThatAreNotOneLineOfVisibleASCII(suffix: String) throws {
        let params: JSON = ["initializationOptions": ["apiKey": .string(key + suffix)]]
        do {
            _ = try InitializeOptions(params: params)
            Issue.record("accepted a key ending in \(suffix.unicodeScalars.map { $0.value })")
        } catch {
            #expect(error.code == RPCError.Code.invalidParams)
            #expect(error.message.contains("initializationOptions.apiKey"))
            #expect(error.data?.objectValue?["field"]?.stringValue == "initializationOptions.apiKey")
            let everything = error.message + ((try? error.data?.serializedString()) ?? "")
            #expect(!SecretRedactor(secret: SecretString(key)).finds(in: everything), "\(everything)")
            #expect(!everything.contains("X-Injected"))
        }
    }

    @Test func acceptsEveryVisibleASCIICharacter() throws {
        let visible = String(decoding: Array(0x21...0x7E), as: UTF8.self)
        let options = try InitializeOptions(params: ["initializationOptions": ["apiKey": .string(visible)]])
        #expect(options.credentials.apiKey == SecretString(visible))
    }

    @Test(arguments: ["\r\nX-Injected: yes", "\u{0}", " ", "é"])
    func refusesTokensByTheSameRules(suffix: String) throws {
        let params: JSON = ["initializationOptions": ["apiKey": .string(key), "accessToken": .string(key + suffix)]]
        do {
            _ = try InitializeOptions(params: params)
            Issue.record("accepted a token ending in \(suffix.unicodeScalars.map { $0.value })")
        } catch {
            #expect(error.code == RPCError.Code.invalidParams)
            #expect(error.data?.objectValue?["field"]?.stringValue == "initializationOptions.accessToken")
            #expect(error.message.contains("access token"))
            let everything = error.message + ((try? error.data?.serializedString()) ?? "")
            #expect(!SecretRedactor(secret: SecretString(key)).finds(in: everything), "\(everything)")
        }
    }

    @Test func readsATokenBesideOrWithoutAKey() throws {
        let both = try InitializeOptions(params: ["initializationOptions": ["apiKey": "k", "accessToken": "t"]])
        #expect(both.credentials == UpstreamCredentials(apiKey: SecretString("k"), accessToken: SecretString("t")))
        let tokenOnly = try InitializeOptions(params: ["initializationOptions": ["accessToken": "t", "apiKey": nil]])
        #expect(tokenOnly.credentials == UpstreamCredentials(accessToken: SecretString("t")))
        #expect(throws: RPCError.self) { try InitializeOptions(params: ["initializationOptions": ["accessToken": 3]]) }
    }
}

/// Types are checked before values, for the token as for every member: a wrong type anywhere is
/// named before a bad value elsewhere.
@Suite struct InitializeCredentialTypeTests {
    @Test func aWrongTypeIsNamedBeforeABadValue() throws {
        let params: JSON = ["initializationOptions": ["apiKey": "bad key", "accessToken": 3]]
        do {
            _ = try InitializeOptions(params: params)
            Issue.record("accepted a numeric token")
        } catch {
            #expect(error.data?.objectValue?["field"]?.stringValue == "initializationOptions.accessToken")
            #expect(error.message.contains("not a number") || error.message.contains("not an integer"), "\(error.message)")
        }
    }
}
