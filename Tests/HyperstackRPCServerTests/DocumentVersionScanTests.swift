import JanssonJSON
import Testing

@testable import HyperstackRPCServer

/// `ServerIdentity.version` scans the embedded document instead of parsing it at start-up;
/// `ServerIdentityTests` checks the result against a full parse, these check the scan itself.
@Suite("The version scan of protocol/openrpc.json")
struct DocumentVersionScanTests {
    @Test("the embedded document's version is found")
    func embeddedDocument() {
        #expect(DocumentVersionScan.infoVersion(in: PackageResources.openrpc_json) == ProtocolDocument.version)
    }

    @Test("the scan takes the version inside info, not an earlier or later one", arguments: [
        (#"{"openrpc":"1.3.2","info":{"title":"t","version":"2.3.4"},"x":{"version":"9"}}"#, "2.3.4"),
        ("{\n  \"info\": {\n    \"version\": \"1.0.0-rc.1\"\n  }\n}", "1.0.0-rc.1"),
        (#"{"version":"0.0.1"}"#, nil),
        (#"{"info":{"version":7}}"#, nil),
        (#"{"info":{"version":""}}"#, nil),
    ] as [(String, String?)])
    func scanCases(document: String, expected: String?) {
        #expect(DocumentVersionScan.infoVersion(in: Array(document.utf8)) == expected)
    }
}
