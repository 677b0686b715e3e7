import Foundation
import TGSupport

/// Sends items to a model with at most `window` requests in flight:
/// `next` hands out the next item (nil at the end), `ask` makes its record,
/// `record` takes each record as it comes back (on this task, so it may
/// write files). The instruction stages share it.
func askInWindow<Item: Sendable>(window: Int, next: () throws -> Item?, ask: @escaping @Sendable (Item) async -> JSONValue,
                                 record: (JSONValue) throws -> Void) async throws {
    try await withThrowingTaskGroup(of: JSONValue.self) { group in
        var inFlight = 0
        while let item = try next() {
            if inFlight >= max(1, window), let value = try await group.next() {
                inFlight -= 1
                try record(value)
            }
            group.addTask { await ask(item) }
            inFlight += 1
        }
        while let value = try await group.next() { try record(value) }
    }
}
