/// What an update does to a key's description.
///
/// Upstream's PUT takes the whole `{name, description}` body, and a description that is
/// left out keeps its old value, so "keep" and "clear" must stay distinct all the way
/// down: keep leaves the member out, clear sends `null`.
package enum DescriptionUpdate: Sendable, Equatable {
    case keep
    case clear
    case set(String)

    /// `nil` keeps the description, a string replaces it.
    package init(_ value: String?) {
        self = value.map(DescriptionUpdate.set) ?? .keep
    }
}
