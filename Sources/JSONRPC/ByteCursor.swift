/// Writes bytes into a buffer sized in advance: frames are built in one allocation, with
/// each part copied once. Every `put` must fit, which callers guarantee by computing the
/// exact size first; `bytes(count:_:)` checks that they filled it.
struct ByteCursor {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private(set) var position = 0

    private init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    /// An array of exactly `count` bytes, all written by `fill`.
    static func bytes(count: Int, _ fill: (inout ByteCursor) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var cursor = ByteCursor(buffer)
            fill(&cursor)
            precondition(cursor.position == count, "a frame's size was miscounted")
            initialized = cursor.position
        }
    }

    mutating func put(_ byte: UInt8) {
        precondition(position < buffer.count, "a frame's size was miscounted")
        buffer[position] = byte
        position += 1
    }

    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { source in
            precondition(buffer.count - position >= source.count, "a frame's size was miscounted")
            guard let base = source.baseAddress, let target = buffer.baseAddress else { return }
            (target + position).update(from: base, count: source.count)
            position += source.count
        }
    }

    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        precondition(buffer.count - position >= bytes.count, "a frame's size was miscounted")
        guard let base = bytes.baseAddress, let target = buffer.baseAddress, bytes.count > 0 else { return }
        UnsafeMutableRawPointer(target + position).copyMemory(from: base, byteCount: bytes.count)
        position += bytes.count
    }

    /// Writes `value` in decimal, with a leading `-` when negative.
    mutating func putDecimal(_ value: Int64) {
        let count = Self.decimalDigitCount(value)
        precondition(buffer.count - position >= count, "a frame's size was miscounted")
        var magnitude = value.magnitude
        var index = position + count - 1
        repeat {
            buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            index -= 1
        } while magnitude > 0
        if value < 0 { buffer[position] = UInt8(ascii: "-") }
        position += count
    }

    /// Characters in `value` written in decimal, sign included.
    static func decimalDigitCount(_ value: Int64) -> Int {
        var magnitude = value.magnitude
        var count = value < 0 ? 2 : 1
        while magnitude >= 10 {
            magnitude /= 10
            count += 1
        }
        return count
    }
}
