import Testing

@testable import Credentials
import InfrahubClient

@Suite("Credential validation")
struct CredentialValidationTests {
    private let key = "hsk-0123456789abcdef0123456789abcdef"
    private let environment = CredentialSource.environment(variable: "HYPERSTACK_API_KEY")
    private let file = CredentialSource.file(path: "/home/me/.hyperstack-key")

    private func problem(_ text: String, _ source: CredentialSource) -> CredentialError.Problem? {
        do {
            _ = try SecretString(validating: text, as: .apiKey, from: source)
            return nil
        } catch {
            return error.problem
        }
    }

    @Test func visibleASCIIKeysAreAcceptedFromEverySource() throws {
        let everyVisible = String(decoding: Array(0x21...0x7E), as: UTF8.self)
        for source in [environment, file, .initializationOptions] {
            #expect(try SecretString(validating: key, as: .apiKey, from: source).revealed == key)
            #expect(try SecretString(validating: everyVisible, as: .apiKey, from: source).revealed == everyVisible)
        }
    }

    @Test func aFileMayEndInOneNewline() throws {
        #expect(try SecretString(validating: key + "\n", as: .apiKey, from: file).revealed == key)
        #expect(try SecretString(validating: key + "\r\n", as: .apiKey, from: file).revealed == key)
        #expect(try SecretString(validating: Array((key + "\n").utf8), as: .apiKey, from: file).revealed == key)
        #expect(problem(key + "\n\n", file) == .moreThanOneLine)
        #expect(problem(key + "\r\n\r\n", file) == .moreThanOneLine)
        #expect(problem(key + "\r", file) == .moreThanOneLine)
        #expect(problem(key + "\nsecond-line", file) == .moreThanOneLine)
        #expect(problem("\n" + key, file) == .moreThanOneLine)
    }

    @Test func onlyAFileMayEndInANewline() {
        for source in [environment, .initializationOptions] {
            #expect(problem(key + "\n", source) == .moreThanOneLine)
            #expect(problem(key + "\r\nX-Injected: yes", source) == .moreThanOneLine)
        }
    }

    @Test func emptyKeysAreRefused() {
        #expect(problem("", environment) == .empty)
        #expect(problem("", .initializationOptions) == .empty)
        for contents in ["", "\n", "\r\n", "\n\n"] {
            #expect(problem(contents, file) == .empty)
        }
    }

    @Test func everyInvisibleCharacterIsRefused() {
        for source in [environment, file, .initializationOptions] {
            #expect(problem(key + "\0", source) == .nul)
            #expect(problem("\0" + key, source) == .nul)
            #expect(problem(key + " ", source) == .space)
            #expect(problem(" " + key, source) == .space)
            #expect(problem(key + "é", source) == .nonASCII)
            #expect(problem(key + "\u{2028}", source) == .nonASCII)
            for scalar in Array(0x01...0x08) + [0x09, 0x0B, 0x0C] + Array(0x0E...0x1F) + [0x7F] {
                let character = String(UnicodeScalar(UInt8(scalar)))
                #expect(problem(key + character + "x", source) == .controlCharacter, "U+\(scalar)")
            }
        }
        #expect(problem(key + "\0", file) == .nul, "a file ending in NUL")
        #expect(problem(key + "\n\0", file) == .moreThanOneLine)
    }

    @Test func bytesThatAreNotUTF8AreRefused() {
        #expect(throws: CredentialError.self) {
            _ = try SecretString(validating: Array(key.utf8) + [0xFF], as: .apiKey, from: file)
        }
    }

    @Test func messagesNameTheCredentialAndTheSourceAndNeverTheValue() {
        let planted = [key + "\nsecond-line", key + "\r\nX-Injected: yes", key + "\0", key + "\t", key + " x", ""]
        for credential in CredentialKind.allCases {
            for source in [environment, file, .initializationOptions, .daemonHello] {
                for text in planted {
                    do {
                        _ = try SecretString(validating: text, as: credential, from: source)
                        Issue.record("accepted a bad \(credential.name) from \(source)")
                    } catch {
                        let message = error.description
                        #expect(message.contains(source.naming(credential)))
                        #expect(error.reason.contains("a Hyperstack \(credential.name) is"))
                        #expect(!SecretRedactor(secret: SecretString(key)).finds(in: message), "\(message)")
                        #expect(!message.contains("second-line") && !message.contains("X-Injected"))
                        #expect(!error.reason.isEmpty)
                    }
                }
            }
        }
        #expect(environment.naming(.apiKey) == "the API key in HYPERSTACK_API_KEY")
        #expect(file.naming(.apiKey).contains("/home/me/.hyperstack-key"))
        #expect(CredentialSource.initializationOptions.naming(.apiKey) == "initializationOptions.apiKey")
        #expect(
            CredentialSource.environment(variable: "HYPERSTACK_ACCESS_TOKEN").naming(.accessToken)
                == "the access token in HYPERSTACK_ACCESS_TOKEN")
        #expect(CredentialSource.file(path: "/t").naming(.accessToken) == "the access token file /t")
        #expect(CredentialSource.initializationOptions.naming(.accessToken) == "initializationOptions.accessToken")
    }

    @Test func anAccessTokenFollowsTheSameRulesAsAKey() throws {
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
        #expect(try SecretString(validating: token, as: .accessToken, from: environment).revealed == token)
        #expect(try SecretString(validating: token + "\r\n", as: .accessToken, from: file).revealed == token)
        for (text, problem) in [("", CredentialError.Problem.empty), ("Bearer " + token, .space), (token + "\n", .moreThanOneLine),
                                (token + "\t", .controlCharacter), (token + "\0", .nul), (token + "é", .nonASCII)] {
            do {
                _ = try SecretString(validating: text, as: .accessToken, from: .initializationOptions)
                Issue.record("accepted a bad token")
            } catch {
                #expect(error.problem == problem)
                #expect(error.credential == .accessToken)
            }
        }
    }

    @Test func credentialsFromInitializeOverrideOnlyWhatTheyBring() {
        let loaded = UpstreamCredentials(apiKey: SecretString("key-from-environment"))
        let initialize = UpstreamCredentials(accessToken: SecretString("token-from-initialize"))
        let merged = loaded.overridden(by: initialize)
        #expect(merged.apiKey == SecretString("key-from-environment"))
        #expect(merged.accessToken == SecretString("token-from-initialize"))
        #expect(merged.overridden(by: .none) == merged)
        #expect(merged.secrets.count == 2)
        #expect("\(merged)" == "API key and access token")
        #expect("\(UpstreamCredentials.none)" == "no credential")
        #expect(!"\(merged)".contains("from"), "the description never holds a value")
    }
}
