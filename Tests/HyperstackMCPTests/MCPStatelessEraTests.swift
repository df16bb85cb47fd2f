import HyperstackMCP
import JSONRPC
import JanssonJSON
import Testing

private let stateless = "2026-07-28"

private func enveloped(_ body: JSONObject = [:], version: JSON = .string(stateless), capabilities: JSON? = [:]) -> JSON {
    var meta: JSONObject = [MCPRequestEnvelope.protocolVersionKey: version]
    if let capabilities { meta[MCPRequestEnvelope.clientCapabilitiesKey] = capabilities }
    var params = body
    params["_meta"] = .object(meta)
    return .object(params)
}

@Suite struct MCPEraLifecycleTests {
    @Test func aRequestNamingTheStatelessRevisionOpensThatEraAndShutsOutTheHandshake() {
        let state = MCPConnectionState()
        var lifecycle = MCPLifecycle(state: state)
        #expect(lifecycle.admit(request: "server/discover", params: enveloped()) == .proceed)
        #expect(lifecycle.era == .stateless)
        #expect(state.isStateless && state.negotiatedVersion == stateless)
        guard case .refuse(let refused) = lifecycle.admit(request: "initialize", params: ["protocolVersion": "2025-11-25"]) else {
            Issue.record("initialize was admitted on a stateless connection")
            return
        }
        #expect(refused.code == MCPRequestEnvelope.unsupportedProtocolVersion)
        #expect(refused.data == ["supported": [.string(stateless)], "requested": "2025-11-25"])
        #expect(lifecycle.admit(request: "ping", params: enveloped()) == .refuse(.methodNotFound("ping")))
        #expect(lifecycle.admit(request: "resources/subscribe", params: enveloped()) == .refuse(.methodNotFound("resources/subscribe")))
        guard case .refuse(let bare) = lifecycle.admit(request: "tools/list", params: nil) else {
            Issue.record("a request without its envelope was admitted")
            return
        }
        #expect(bare.code == RPCError.Code.invalidParams)
    }

    @Test func aRefusedEnvelopeDecidesNoEra() {
        var lifecycle = MCPLifecycle()
        guard case .refuse(let refused) = lifecycle.admit(request: "server/discover", params: enveloped(version: "2027-01-01")) else {
            Issue.record("an unknown revision was admitted")
            return
        }
        #expect(refused.code == -32022)
        #expect(refused.data?["requested"] == "2027-01-01")
        guard case .refuse(let malformed) = lifecycle.admit(request: "tools/list", params: enveloped(capabilities: nil)) else {
            Issue.record("an envelope without capabilities was admitted")
            return
        }
        #expect(malformed.code == RPCError.Code.invalidParams)
        #expect(malformed.message.contains(MCPRequestEnvelope.clientCapabilitiesKey))
        #expect(lifecycle.era == nil)
        #expect(lifecycle.admit(request: "initialize", params: nil) == .initialize)
        #expect(lifecycle.era == .handshake)
    }

    @Test func theHandshakeEraRefusesEnvelopesAndTheStatelessMethods() {
        var lifecycle = MCPLifecycle()
        #expect(lifecycle.admit(request: "initialize") == .initialize)
        guard case .refuse(let mixed) = lifecycle.admit(request: "tools/list", params: enveloped()) else {
            Issue.record("an envelope was admitted on a handshake connection")
            return
        }
        #expect(mixed.code == RPCError.Code.invalidRequest)
        #expect(lifecycle.admit(request: "server/discover") == .refuse(.methodNotFound("server/discover")))
        #expect(lifecycle.admit(request: "subscriptions/listen") == .refuse(.methodNotFound("subscriptions/listen")))
        // A progress token alone is no claim on the stateless era.
        #expect(lifecycle.admit(request: "tools/list", params: ["_meta": ["progressToken": 1]]) == .proceed)
        #expect(lifecycle.admit(request: "ping") == .proceed)
    }

    @Test func aNonStringVersionIsMalformedNotUnsupported() throws {
        #expect(throws: RPCError.self) { try MCPRequestEnvelope(params: enveloped(version: .int(20_260_728))) }
        do throws(RPCError) {
            _ = try MCPRequestEnvelope(params: enveloped(version: .int(20_260_728)))
        } catch {
            #expect(error.code == RPCError.Code.invalidParams)
        }
        let envelope = try MCPRequestEnvelope(params: enveloped(capabilities: ["elicitation": [:]]))
        #expect(envelope.protocolVersion == stateless && envelope.clientCapabilities["elicitation"] == [:])
    }
}

@Suite struct MCPListenStreamsTests {
    let filter = MCPListenStreams.Filter(resourcesListChanged: true, resourceSubscriptions: [])

    @Test func theAcknowledgementComesWhileNoChangeCanBeAnnounced() throws {
        let streams = MCPListenStreams()
        var seenDuringAck: [RequestID] = []
        try streams.open(id: .number(1), filter: filter) {
            // forEach would deadlock if called here; the ack runs under the registry's lock, so
            // a change is announced either before the stream exists or after its ack.
            seenDuringAck.append(.number(1))
        }
        var open: [RequestID] = []
        streams.forEach { id, _ in open.append(id) }
        #expect(open == [.number(1)] && seenDuringAck == [.number(1)])
        #expect(throws: RPCError.self) { try streams.open(id: .number(1), filter: filter) {} }
    }

    @Test func aStreamEndsWhenItsTaskIsCancelledOrTheInputEnds() async throws {
        let streams = MCPListenStreams()
        try streams.open(id: .string("a"), filter: filter) {}
        try streams.open(id: .string("b"), filter: filter) {}
        let a = Task { await streams.waitForEnd(.string("a")) }
        let b = Task { await streams.waitForEnd(.string("b")) }
        a.cancel()
        #expect(await a.value == .cancelled)
        streams.endAll()
        #expect(await b.value == .inputEnded)
        #expect(streams.isEmpty)
        #expect(throws: RPCError.self) { try streams.open(id: .string("c"), filter: filter) {} }
    }

    @Test func aConnectionHoldsABoundedNumberOfStreams() throws {
        let streams = MCPListenStreams()
        for index in 0..<MCPListenStreams.limit { try streams.open(id: .number(Int64(index)), filter: filter) {} }
        do throws(RPCError) {
            try streams.open(id: .number(-1), filter: filter) {}
            Issue.record("a stream past the limit opened")
        } catch {
            #expect(error.code == RPCError.Code.internalError && error.message.contains("Subscription limit"))
        }
    }
}

@Suite struct MCPStatelessSessionTests {
    @Test func discoverAndEveryResultTakeTheStatelessShape() async throws {
        let harness = try MCPHarness()
        let found = try #require(try await harness.request("server/discover", enveloped())["result"])
        #expect(found["supportedVersions"] == [.string(stateless)])
        #expect(found["resultType"] == "complete" && found["cacheScope"] == "public")
        #expect(found["_meta"]?[MCPRequestEnvelope.serverInfoKey]?["name"] == "hyperstack-rpc")
        #expect(found["capabilities"]?["logging"] == nil)
        let tools = try #require(try await harness.request("tools/list", enveloped())["result"])
        #expect(tools["ttlMs"]?.intValue == 3_600_000 && tools["tools"]?.arrayValue?.count == 4)
        let read = try #require(try await harness.request("resources/read", enveloped(["uri": "hyperstack://api-keys"]))["result"])
        #expect(read["cacheScope"] == "private")
        let ttl = try #require(read["ttlMs"]?.intValue)
        #expect(ttl > 0 && ttl <= 30_000)
        let call = try #require(
            try await harness.request("tools/call", enveloped(["name": "list_api_keys", "arguments": [:]]))["result"])
        #expect(call["resultType"] == "complete" && call["ttlMs"] == nil && call["isError"] == false)
    }
}
