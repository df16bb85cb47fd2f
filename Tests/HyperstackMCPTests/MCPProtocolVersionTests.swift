import HyperstackMCP
import Testing

@Suite struct MCPProtocolVersionTests {
    @Test func aSupportedVersionIsAnsweredAsRequested() {
        for version in MCPProtocolVersion.supported {
            #expect(MCPProtocolVersion.negotiate(requested: version) == version)
        }
    }

    @Test func anUnknownVersionIsAnsweredWithOurLatest() {
        #expect(MCPProtocolVersion.negotiate(requested: "2023-01-01") == "2025-11-25")
        #expect(MCPProtocolVersion.negotiate(requested: "2026-07-28") == "2025-11-25")
        #expect(MCPProtocolVersion.negotiate(requested: "") == "2025-11-25")
    }

    @Test func argumentErrorsBecomeToolErrorsFrom20251125() {
        #expect(!MCPProtocolVersion.reportsInvalidArgumentsAsToolErrors("2025-06-18"))
        #expect(!MCPProtocolVersion.reportsInvalidArgumentsAsToolErrors("2024-11-05"))
        #expect(MCPProtocolVersion.reportsInvalidArgumentsAsToolErrors("2025-11-25"))
    }
}
