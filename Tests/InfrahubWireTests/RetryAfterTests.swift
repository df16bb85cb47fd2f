import InfrahubWire
import Testing

@Suite("Retry-After")
struct RetryAfterTests {
    @Test func delaySecondsAndHTTPDates() {
        let now: Int64 = 784_111_767  // Sun, 06 Nov 1994 08:49:27 GMT
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        #expect(RetryAfter.parse(" 0 ", now: now) == .seconds(0))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .seconds(10))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:00 GMT", now: now) == .seconds(0))
        #expect(RetryAfter.parse(nil, now: now) == nil)
        #expect(RetryAfter.parse("soon", now: now) == nil)
        #expect(RetryAfter.parse("-5", now: now) == nil)
        #expect(RetryAfter.parse("Sun, 31 Feb 1994 08:49:37 GMT", now: now) == nil)
    }
}
