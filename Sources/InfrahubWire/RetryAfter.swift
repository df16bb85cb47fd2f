/// Reads a `Retry-After` header: either delay-seconds or an HTTP-date.
///
/// A 429 or 5xx may carry it, and the client takes the wait as a floor for its backoff. It is
/// header grammar with no network in it, so it sits with the other wire types and is tested
/// without a server.
package enum RetryAfter {
    /// The wait the header asks for, or nil when it is absent or unreadable.
    /// `now` is seconds since the epoch, needed to turn an HTTP-date into a wait.
    package static func parse(_ value: String?, now: Int64) -> Duration? {
        guard let value else { return nil }
        let bytes = Array(value.utf8).trimmingASCIIWhitespace()
        guard !bytes.isEmpty else { return nil }
        if bytes.allSatisfy({ (0x30...0x39).contains($0) }) {
            guard bytes.count <= 9, let seconds = Int64(String(decoding: bytes, as: UTF8.self)) else {
                return bytes.count > 9 ? .seconds(Int64(999_999_999)) : nil
            }
            return .seconds(seconds)
        }
        guard let date = httpDate(bytes) else { return nil }
        return .seconds(max(0, date - now))
    }

    /// Seconds since the epoch for an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
    static func httpDate(_ bytes: [UInt8]) -> Int64? {
        var scanner = DigitScanner(bytes)
        guard scanner.letters().count == 3, scanner.skip(","), scanner.skip(" "),
            let day = scanner.number(digits: 2), scanner.skip(" ")
        else { return nil }
        let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        guard let monthIndex = monthNames.firstIndex(of: scanner.letters().lowercased()), scanner.skip(" "),
            let year = scanner.number(digits: 4), scanner.skip(" "),
            let hour = scanner.number(digits: 2), scanner.skip(":"),
            let minute = scanner.number(digits: 2), scanner.skip(":"),
            let second = scanner.number(digits: 2), scanner.skip(" "),
            scanner.letters() == "GMT", scanner.atEnd
        else { return nil }
        let month = Int64(monthIndex + 1)
        guard (1...InfrahubTimestamp.daysInMonth(year: year, month: month)).contains(day),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        return InfrahubTimestamp.daysFromCivil(year: year, month: month, day: day) * 86_400
            + hour * 3600 + minute * 60 + min(second, 59)
    }
}
