import JSONRPC
import JanssonJSON
import Testing
@testable import ForwarderCore

/// The forwarder's cheap read of a request's id and method must agree with a full parse
/// whenever it answers at all.
@Suite struct RequestPeekTests {
    private func peek(_ text: String) -> RequestPeek {
        Array(text.utf8).withUnsafeBytes { RequestPeek($0) }
    }

    @Test func plainRequestsAndNotifications() {
        #expect(peek(#"{"jsonrpc":"2.0","id":1,"method":"apiKeys.list"}"#) == .request(id: Array("1".utf8), method: "apiKeys.list"))
        #expect(peek(#" { "method" : "apiKeys.list" , "params": {"refresh": [true, {"a": "}"}]}, "id": "x-9" } "#)
            == .request(id: Array(#""x-9""#.utf8), method: "apiKeys.list"))
        #expect(peek(#"{"jsonrpc":"2.0","id":-42,"method":"m","params":[1,2.5e3,null,"a\"b"]}"#) == .request(id: Array("-42".utf8), method: "m"))
        #expect(peek(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":3}}"#) == .notification(method: "$/cancelRequest"))
    }

    @Test func whatItCannotBeSureOfIsLeftToTheParser() {
        let unsure = [
            #"{"id":"caf\u00e9","method":"m"}"#, #"{"id":"café","method":"m"}"#, #"{"id":1.5,"method":"m"}"#,
            #"{"id":1e2,"method":"m"}"#, #"{"id":01,"method":"m"}"#, #"{"id":-0,"method":"m"}"#, #"{"id":null,"method":"m"}"#,
            #"{"id":1234567890123456789,"method":"m"}"#, #"{"id":1,"id":2,"method":"m"}"#, #"{"id":1,"method":"a\/b"}"#,
            #"{"id":1,"method":"m""#, #"{"id":1,"method":"m"} x"#, #"[{"id":1,"method":"m"}]"#, #"{"id":1}"#, "{}", "",
            #"{"id":1,"method":7}"#, #"{"i\u0064":1,"method":"m"}"#,
        ]
        for text in unsure { #expect(peek(text) == .unsure, "\(text)") }
    }

    @Test func itAgreesWithAFullParse() throws {
        let corpus = [
            #"{"jsonrpc":"2.0","id":0,"method":"apiKeys.generate","params":{"name":"n","description":"d"}}"#,
            #"{"jsonrpc":"2.0","id":"abc def","method":"apiKeys.update","params":{"id":3,"name":"x"}}"#,
            #"{"method":"apiKeys.delete","jsonrpc":"2.0","params":{"id":9},"id":999999999999999999}"#,
            #"{"jsonrpc":"2.0","id":-7,"method":"$/ping","params":{"deep":[[[{"x":[1,{"y":"]"}]}]]]}}"#,
        ]
        for text in corpus {
            guard case .request(let id, let method) = peek(text) else {
                Issue.record("unsure of \(text)")
                continue
            }
            let json = try JSON.parse(text)
            #expect(id == RequestID(json: json["id"]!)!.serialized())
            #expect(method == json["method"]?.stringValue)
        }
    }
}
