@testable import APIKeyStore
import InfrahubClient
import Testing

/// Diffing two key sets by id.
@Suite struct KeySetDiffTests {
    private func key(_ id: Int64, _ name: String, description: String? = nil, masked: String? = nil) -> APIKeyRecord {
        APIKeyRecord(id: id, name: name, description: description, createdAt: "2026-05-06T15:18:42Z", maskedKey: masked)
    }

    @Test func identicalSetsHaveNoDiff() {
        let set = [key(1, "a"), key(2, "b")]
        #expect(KeySetDiff(from: set, to: set).isEmpty)
        #expect(KeySetDiff(from: [], to: []).isEmpty)
    }

    @Test func addedUpdatedAndRemovedAreMatchedById() {
        let old = [key(1, "a"), key(2, "b"), key(4, "d"), key(6, "f")]
        let new = [key(2, "b", description: "now described"), key(3, "c"), key(4, "d"), key(7, "g")]
        let diff = KeySetDiff(from: old, to: new)
        #expect(diff.added == [key(3, "c"), key(7, "g")])
        #expect(diff.updated == [key(2, "b", description: "now described")])
        #expect(diff.removed == [1, 6])
    }

    @Test func everyFieldCountsAsAnUpdate() {
        let base = key(1, "a", description: "d", masked: "********-****-****-****-********abcd")
        var renamed = base
        renamed.name = "b"
        var remasked = base
        remasked.maskedKey = "********-****-****-****-********dcba"
        var redated = base
        redated.createdAt = "2026-05-07T00:00:00Z"
        var undescribed = base
        undescribed.description = nil
        for changed in [renamed, remasked, redated, undescribed] {
            #expect(KeySetDiff(from: [base], to: [changed]).updated == [changed])
        }
    }

    @Test func normalisedSortsByIdAndKeepsTheLastDuplicate() {
        let normalised = KeySetDiff.normalised([key(5, "e"), key(1, "a"), key(5, "E"), key(3, "c")])
        #expect(normalised == [key(1, "a"), key(3, "c"), key(5, "E")])
    }
}
