import Testing
@testable import SemidIndex

@Suite struct TokenTemplateTests {
    @Test func theDefaultIsLCRecsTokenForm() throws {
        let t = TokenTemplate.lcrec
        #expect(t.token(position: 0, code: 12) == "<a_12>")
        #expect(t.token(position: 25, code: 0) == "<z_0>")
        #expect(t.token(position: 26, code: 3) == "<p26_3>")
        #expect(try TokenTemplate("<{letter}_{code}>") == t)
        // The LC-Rec export names tokens the same way.
        for position in [0, 1, 7, 25, 26, 40] {
            #expect(IndexExport.token(position: position, code: 9) == t.token(position: position, code: 9))
        }
    }

    @Test func placeholdersAndBraces() throws {
        #expect(try TokenTemplate("<s_{letter}_{code}>").token(position: 1, code: 6566) == "<s_b_6566>")
        #expect(try TokenTemplate("[SID{position}:{code}]").token(position: 3, code: 7) == "[SID3:7]")
        #expect(try TokenTemplate("{{{letter}}}{code}").token(position: 2, code: 1) == "{c}1")
    }

    @Test func vocabularyListsEveryPositionsCodesInOrder() throws {
        let tokens = TokenTemplate.lcrec.vocabulary(codeSizes: [2, 3, 1])
        #expect(tokens == ["<a_0>", "<a_1>", "<b_0>", "<b_1>", "<b_2>", "<c_0>"])
        #expect(Set(TokenTemplate.lcrec.vocabulary(codeSizes: [30, 30, 30])).count == 90)
    }

    @Test(arguments: ["<{letter}>", "<{code}>", "<{letter}_{cod}>", "<{letter_{code}>", "<{letter}}_{code}>", ""])
    func badTemplatesAreRejectedWithTheirText(_ text: String) {
        #expect {
            _ = try TokenTemplate(text)
        } throws: { error in
            String(describing: error).contains("token template \"\(text)\"")
        }
    }
}
