import JSONRPC
import JanssonJSON

/// The shape of a `tools/call` result: `structuredContent` for programs, the same JSON as text
/// for clients that only show text, and `isError` results whose text a person (or a model) can
/// act on.
enum MCPToolResult {
    static func success(_ structured: JSON) throws -> RPCResult {
        .json([
            "content": [["type": "text", "text": .string(try structured.serializedString())]],
            "structuredContent": structured,
            "isError": false,
        ])
    }

    static func failure(_ message: String) -> RPCResult {
        .json(["content": [["type": "text", "text": .string(message)]], "isError": true])
    }
}
