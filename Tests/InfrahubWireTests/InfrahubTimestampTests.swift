import Testing

@testable import InfrahubWire

@Suite("Timestamp normalisation")
struct InfrahubTimestampTests {
    @Test(arguments: [
        ("2026-05-06T15:18:42Z", "2026-05-06T15:18:42Z"),
        ("2026-05-06T15:18:42", "2026-05-06T15:18:42Z"),
        ("2026-05-06 15:18:42", "2026-05-06T15:18:42Z"),
        ("2026-05-06T15:18:42.123456", "2026-05-06T15:18:42Z"),
        ("2026-05-06T15:18:42.999Z", "2026-05-06T15:18:42Z"),
        ("2026-05-06T15:18:42+02:00", "2026-05-06T13:18:42Z"),
        ("2026-05-06T15:18:42.5-0130", "2026-05-06T16:48:42Z"),
        ("2026-05-06T15:18:42+00:00", "2026-05-06T15:18:42Z"),
        ("2026-05-06T00:30:00+01:00", "2026-05-05T23:30:00Z"),
        ("2024-02-29T23:59:59-00:01", "2024-03-01T00:00:59Z"),
        ("2026-12-31T23:00:00-02:00", "2027-01-01T01:00:00Z"),
        ("2026-05-06T15:18Z", "2026-05-06T15:18:00Z"),
        ("  2026-05-06T15:18:42z ", "2026-05-06T15:18:42Z"),
        ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"),
    ])
    func acceptsVariants(input: String, expected: String) {
        #expect(InfrahubTimestamp.normalize(input) == expected)
    }

    @Test(arguments: [
        "", "yesterday", "2026-05-06", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
        "2026-05-06T24:00:00Z", "2026-05-06T15:60:00Z", "2026-05-06T15:18:42Q", "2026-05-06T15:18:42.Z",
        "2026-05-06T15:18:42+25:00", "2026-5-6T15:18:42Z",
    ])
    func rejectsGarbage(input: String) {
        #expect(InfrahubTimestamp.normalize(input) == nil)
    }

    @Test func epochArithmeticRoundTrips() {
        #expect(InfrahubTimestamp.secondsSinceEpoch("1970-01-01T00:00:00Z") == 0)
        #expect(InfrahubTimestamp.secondsSinceEpoch("2000-03-01T00:00:00Z") == 951_868_800)
        for seconds: Int64 in [-86_401, 0, 951_782_399, 1_778_080_722, 4_102_444_800] {
            let text = InfrahubTimestamp.format(secondsSinceEpoch: seconds)
            #expect(InfrahubTimestamp.secondsSinceEpoch(text) == seconds)
        }
    }
}
