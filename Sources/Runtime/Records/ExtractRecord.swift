import TGSupport

/// One line of `extract.jsonl` (and of the extract chunks): the concepts
/// stage 1 found in one patient's events. Events without concepts are left
/// out; event indices are positions in the patient's timeline, as in
/// `samples.jsonl`.
///
///     {"id": "10000032", "events": [{"event": 3, "name": "labevents", "concepts": [{"concept": "C0017725", ...}]}]}
public struct ExtractRecord: Sendable, Equatable {
    /// One concept of an event, as written: the extraction module turns it
    /// into its `LinkedConcept` (which knows the matcher's types).
    public struct Concept: Sendable, Equatable {
        public var concept: String
        public var name: String
        /// The text it was found from.
        public var surface: String
        /// How it was found: exact, code, approximate, string or text.
        public var link: String
        public var similarity: Double
        /// The record key (or `text`) it came from.
        public var field: String
        public var negated = false
        public var hypothetical = false
        public var historical = false
        public var family = false

        public init(concept: String, name: String, surface: String, link: String, similarity: Double, field: String,
                    negated: Bool = false, hypothetical: Bool = false, historical: Bool = false, family: Bool = false) {
            self.concept = concept
            self.name = name
            self.surface = surface
            self.link = link
            self.similarity = similarity
            self.field = field
            self.negated = negated
            self.hypothetical = hypothetical
            self.historical = historical
            self.family = family
        }

        init(fields: RecordFields) throws {
            concept = try fields.string("concept")
            name = try fields.string("name")
            surface = try fields.string("surface")
            link = try fields.string("link")
            similarity = try fields.double("similarity")
            field = try fields.string("field")
            negated = try fields.flag("negated")
            hypothetical = try fields.flag("hypothetical")
            historical = try fields.flag("historical")
            family = try fields.flag("family")
        }

        public var json: JSONValue {
            var members: [(String, JSONValue)] = [
                ("concept", .string(concept)), ("name", .string(name)), ("surface", .string(surface)),
                ("link", .string(link)), ("similarity", .number((similarity * 1000).rounded() / 1000)), ("field", .string(field)),
            ]
            if negated { members.append(("negated", .bool(true))) }
            if hypothetical { members.append(("hypothetical", .bool(true))) }
            if historical { members.append(("historical", .bool(true))) }
            if family { members.append(("family", .bool(true))) }
            return .object(members)
        }
    }

    /// The concepts of one event.
    public struct Event: Sendable, Equatable {
        /// The event's position in the patient's timeline.
        public var event: Int
        /// The event's name (its table).
        public var name: String
        public var concepts: [Concept]

        public init(event: Int, name: String, concepts: [Concept]) {
            self.event = event
            self.name = name
            self.concepts = concepts
        }
    }

    /// The patient's id.
    public var id: String
    public var events: [Event]

    public init(id: String, events: [Event]) {
        self.id = id
        self.events = events
    }

    public init(json value: JSONValue, file: String, line: Int?) throws {
        let fields = try RecordFields(value, file: file, line: line)
        id = try fields.string("id")
        events = try fields.objects("events") { event in
            let index = try event.int("event")
            guard index >= 0 else { throw event.error("event", "a negative event index") }
            return Event(event: index, name: try event.string("name"), concepts: try event.objects("concepts", Concept.init(fields:)))
        }
    }

    public var json: JSONValue {
        .object([("id", .string(id)), ("events", .array(events.map { event in
            .object([("event", .integer(Int64(event.event))), ("name", .string(event.name)),
                     ("concepts", .array(event.concepts.map(\.json)))])
        }))])
    }
}
