import Credentials
import Testing

@testable import InfrahubClient

@Suite("Key masking")
struct APIKeyMaskingTests {
    @Test func showsLastFourCharactersLikeUpstream() {
        let secret = SecretString("3f2c1a7e-1111-2222-3333-5d41c0a7be9a")
        #expect(APIKeyMasking.mask(secret) == "********-****-****-****-********be9a")
    }

    @Test func hidesShortSecretsEntirely() {
        #expect(APIKeyMasking.mask(SecretString("abc123")) == "********-****-****-****-********")
        #expect(APIKeyMasking.mask(SecretString("")) == "********-****-****-****-********")
    }

    @Test func secretStringNeverDescribesItself() {
        let secret = SecretString("top-secret-value")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
    }
}
