/// The client's API is written in the wire types (`InfrahubTransport`, `TransportFailure`,
/// `InfrahubTimestamp`), so whoever imports the client gets them too, as Hummingbird's users get
/// HTTPTypes.
@_exported import InfrahubWire
