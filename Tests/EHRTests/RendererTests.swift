import Testing
@testable import EHR

@Suite struct RendererTests {
    let renderer = TimelineRenderer()

    @Test func oneRecordIsAListAndSeveralAreATable() {
        let events = TimelineTests.sample.events
        #expect(renderer.render(events[0]) == """
            ## Admissions [2180-05-06 22:23:00]
            - admission_type: URGENT

            """)
        #expect(renderer.render(events[1]) == """
            ## Labevents [2180-05-07 06:00:00]
            | item_name | valuenum | flag | value |
            | --- | --- | --- | --- |
            | Glucose | 95.5 | false |  |
            | Sodium \\| Na |  |  | <130 |

            """)
        #expect(renderer.render(events[2]) == "## Discharge [2180-05-08 12:00:00]\nDischarge summary\nline two\n")
        #expect(renderer.displayName("chart_events") == "Chart Events")
    }

    @Test func aTokenBudgetDropsTheOldestEventsFirst() {
        let events = TimelineTests.sample.events
        let full = renderer.render(events)
        #expect(full.dropped == 0)
        #expect(full.text.components(separatedBy: "## ").count == 4)
        let budget = TimelineRenderer.estimatedTokens(renderer.render(events[2])) + 2
        let fitted = renderer.render(events, maxTokens: budget)
        #expect(fitted.dropped == 2)
        #expect(fitted.text.hasPrefix("## Discharge"))
        // A kept event (the admission) survives; the next oldest goes.
        let kept = renderer.render(events, maxTokens: budget + 20, keep: [0])
        #expect(kept.text.hasPrefix("## Admissions") && !kept.text.contains("Labevents") && kept.text.contains("Discharge"))
    }

    @Test func xhtmlNarrativesBecomeLines() {
        let div = """
            <div xmlns="http://www.w3.org/1999/xhtml"><h5>Findings</h5><p>Lungs&nbsp;clear &amp; dry.<br/>Heart normal.</p>\
            <ul><li>one</li><li>two</li></ul><table><tr><th>Test</th><th>Value</th></tr><tr><td>Na</td><td>140</td></tr></table>\
            <script>alert(1)</script>Tail</div>
            """
        #expect(XHTMLText.plainText(div) == "Findings\nLungs\u{A0}clear & dry.\nHeart normal.\n- one\n- two\nTest | Value\nNa | 140\nTail")
        #expect(XHTMLText.plainText("<div xmlns='http://www.w3.org/1999/xhtml'>a\nb</div>") == "a\nb")
        #expect(XHTMLText.plainText("") == "")
        #expect(XHTMLText.plainText("<div><p>unclosed") == "unclosed")
    }
}
