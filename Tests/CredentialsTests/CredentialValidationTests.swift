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
            _ = try SecretString(validatingAPIKey: text, from: source)
            return nil
        } catch {
            return error.problem
        }
    }

    @Test func visibleASCIIKeysAreAcceptedFromEverySource() throws {
        let everyVisible = String(decoding: Array(0x21...0x7E), as: UTF8.self)
        for source in [environment, file, .initializationOptions] {
            #expect(try SecretString(validatingAPIKey: key, from: source).revealed == key)
            #expect(try SecretString(validatingAPIKey: everyVisible, from: source).revealed == everyVisible)
        }
    }

    @Test func aFileMayEndInOneNewline() throws {
        #expect(try SecretString(validatingAPIKey: key + "\n", from: file).revealed == key)
        #expect(try SecretString(validatingAPIKey: key + "\r\n", from: file).revealed == key)
        #expect(try SecretString(validatingAPIKey: Array((key + "\n").utf8), from: file).revealed == key)
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
            _ = try SecretString(validatingAPIKey: Array(key.utf8) + [0xFF], from: file)
        }
    }

    @Test func messagesNameTheSourceAndNeverTheKey() {
        let planted = [key + "\nsecond-line", key + "\r\nX-Injected: yes", key + "\0", key + "\t", key + " x", ""]
        for source in [environment, file, .initializationOptions] {
            for text in planted {
                do {
                    _ = try SecretString(validatingAPIKey: text, from: source)
                    Issue.record("accepted a bad key from \(source)")
                } catch {
                    let message = error.description
                    #expect(message.contains("\(source)"))
                    #expect(!SecretRedactor(secret: SecretString(key)).finds(in: message), "\(message)")
                    #expect(!message.contains("second-line") && !message.contains("X-Injected"))
                    #expect(!error.reason.isEmpty)
                }
            }
        }
        #expect("\(environment)" == "the API key in HYPERSTACK_API_KEY")
        #expect("\(file)".contains("/home/me/.hyperstack-key"))
        #expect("\(CredentialSource.initializationOptions)" == "initializationOptions.apiKey")
    }
}
