import InfrahubClient

/// The difference between two key sets, matched by id.
struct KeySetDiff: Equatable {
    var added: [APIKeyRecord] = []
    var updated: [APIKeyRecord] = []
    var removed: [Int64] = []

    var isEmpty: Bool { added.isEmpty && updated.isEmpty && removed.isEmpty }

    /// Both inputs must be sorted by id with unique ids (see `normalised`); outputs are sorted by id.
    init(from old: [APIKeyRecord], to new: [APIKeyRecord]) {
        var oldIndex = old.startIndex
        var newIndex = new.startIndex
        while oldIndex < old.endIndex || newIndex < new.endIndex {
            if newIndex == new.endIndex || (oldIndex < old.endIndex && old[oldIndex].id < new[newIndex].id) {
                removed.append(old[oldIndex].id)
                oldIndex += 1
            } else if oldIndex == old.endIndex || new[newIndex].id < old[oldIndex].id {
                added.append(new[newIndex])
                newIndex += 1
            } else {
                if old[oldIndex] != new[newIndex] { updated.append(new[newIndex]) }
                oldIndex += 1
                newIndex += 1
            }
        }
    }

    /// Sorts by id and keeps the last record for a repeated id, so diffs and equality are well defined.
    static func normalised(_ records: [APIKeyRecord]) -> [APIKeyRecord] {
        var byID: [Int64: APIKeyRecord] = [:]
        byID.reserveCapacity(records.count)
        for record in records { byID[record.id] = record }
        return byID.values.sorted { $0.id < $1.id }
    }

    /// The ids that occur more than once in `records`, sorted.
    static func duplicateIDs(in records: [APIKeyRecord]) -> [Int64] {
        var seen = Set<Int64>()
        var repeated = Set<Int64>()
        for record in records where !seen.insert(record.id).inserted { repeated.insert(record.id) }
        return repeated.sorted()
    }
}
