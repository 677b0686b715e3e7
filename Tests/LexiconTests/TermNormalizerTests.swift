import Testing
@testable import Lexicon

@Suite struct TermNormalizerTests {
    @Test func asciiIsLowercasedAndWhitespaceFolded() {
        let normalizer = TermNormalizer()
        #expect(normalizer.normalize("  Type 2\tDiabetes   MELLITUS \n") == "type 2 diabetes mellitus")
        #expect(normalizer.normalize("") == "")
        #expect(normalizer.normalize(" \t ") == "")
    }

    @Test func caseIsKeptWhenAsked() {
        #expect(TermNormalizer(lowercase: false).normalize("Crohn  Disease") == "Crohn Disease")
    }

    @Test func unicodeIsLowercasedButKeptWithoutTransliteration() {
        #expect(TermNormalizer().normalize("SJÖGREN Syndrome") == "sjögren syndrome")
    }

    @Test func transliterationFoldsAccentsLettersGreekAndDashes() {
        let normalizer = TermNormalizer(lowercase: true, asciiTransliteration: true)
        #expect(normalizer.normalize("Sjögren syndrome") == "sjogren syndrome")
        #expect(normalizer.normalize("β-Blocker") == "beta-blocker")
        #expect(normalizer.normalize("Straße – Ödem") == "strasse - odem")
        #expect(normalizer.normalize("Ménière’s disease") == "meniere's disease")
        #expect(normalizer.normalize("CD4\u{00A0}count") == "cd4 count")
        #expect(normalizer.normalize("10 µg") == "10 mug")
        #expect(normalizer.normalize("漢字") == "")
    }
}
