import Testing
@testable import EHR

@Suite struct TimestampTests {
    @Test func parsesTheFormsSourcesWrite() throws {
        #expect(Timestamp(parsing: "2180-05-06 22:23:00")?.description == "2180-05-06 22:23:00")
        #expect(Timestamp(parsing: "2180-05-06")?.description == "2180-05-06 00:00:00")
        #expect(Timestamp(parsing: "2180-05-06 22:23")?.description == "2180-05-06 22:23:00")
        #expect(Timestamp(parsing: "2025-08-27T08:34:00Z")?.description == "2025-08-27 08:34:00")
        #expect(Timestamp(parsing: "2025-08-27T09:02:50.997982Z")?.description == "2025-08-27 09:02:50")
        // Offsets convert to UTC, across a day boundary.
        #expect(Timestamp(parsing: "2025-01-01T01:30:00+02:00")?.description == "2024-12-31 23:30:00")
        #expect(Timestamp(parsing: "2025-01-01T23:30:00-05:00")?.description == "2025-01-02 04:30:00")
    }

    @Test func rejectsImpossibleTimes() {
        for text in ["2023-02-29", "2024-02-30", "2023-13-01", "2023-04-31 10:00:00", "2023-01-01 24:00:00",
                     "2023-01-01 10:60:00", "2023-01-01 10:00:61", "23-01-01", "2023/01/01", "", "2023-01-01 10",
                     "2023-01-01T10:00:00+25:00", "2023-01-01 10:00:00 extra"] {
            #expect(Timestamp(parsing: text) == nil, "\(text)")
        }
        #expect(Timestamp(parsing: "2024-02-29") != nil)
        #expect(Timestamp(parsing: "2000-02-29") != nil)
        #expect(Timestamp(parsing: "2100-02-29") == nil)
    }

    @Test func roundTripsEveryDayOverCenturies() {
        // Day arithmetic against a plain day-by-day walk.
        var seconds = Timestamp(year: 1899, month: 12, day: 31)!.secondsSinceEpoch
        for year in 1900...2210 {
            for month in 1...12 {
                for day in 1...Timestamp.daysInMonth(year: year, month: month) {
                    seconds += 86_400
                    let stamp = Timestamp(secondsSinceEpoch: seconds)
                    let c = stamp.components
                    #expect(c.year == year && c.month == month && c.day == day)
                    if c.year != year || c.month != month || c.day != day { return }
                }
            }
        }
    }
}
