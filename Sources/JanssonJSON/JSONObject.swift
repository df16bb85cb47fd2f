/// A JSON object that keeps its members in insertion order.
///
/// Order is kept so that what we serialise reads the way it was built; equality
/// ignores order, as JSON does. Lookups are linear, which is the fast choice for the
/// small objects a protocol exchanges.
package struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// One member of an object.
    package struct Member: Sendable, Equatable {
        package var key: String
        package var value: JSON
    }

    package private(set) var members: [Member]

    package init() { members = [] }

    /// An empty object with room for `capacity` members.
    package init(capacity: Int) {
        members = []
        members.reserveCapacity(capacity)
    }

    package init(_ pairs: some Sequence<(String, JSON)>) {
        members = []
        for (key, value) in pairs { self[key] = value }
    }

    package init(dictionaryLiteral elements: (String, JSON)...) {
        self.init(elements)
    }

    package var count: Int { members.count }
    package var isEmpty: Bool { members.isEmpty }
    package var keys: [String] { members.map(\.key) }

    /// The value for `key`; setting `nil` removes the member, setting a value for an
    /// existing key replaces it in place.
    package subscript(key: String) -> JSON? {
        get {
            for member in members where member.key == key { return member.value }
            return nil
        }
        set {
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    /// Appends without checking for an existing key; for the parser, which has
    /// already had duplicates resolved by Jansson.
    mutating func appendUnchecked(key: String, value: JSON) {
        members.append(Member(key: key, value: value))
    }

    package func makeIterator() -> some IteratorProtocol<(key: String, value: JSON)> {
        members.lazy.map { (key: $0.key, value: $0.value) }.makeIterator()
    }

    package static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.members.allSatisfy { rhs[$0.key] == $0.value }
    }
}
