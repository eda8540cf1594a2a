import Foundation
import Testing
@testable import SemidMath

@Suite struct ExactMathTests {
    static func ulps(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b).ulp, Double.leastNormalMagnitude) }

    @Test func expAgreesWithTheCLibraryToAFewUlps() {
        var rng = SeededGenerator(seed: 4)
        for _ in 0..<20_000 {
            let x = (rng.nextUnitDouble() * 2 - 1) * 700
            #expect(Self.ulps(ExactMath.exp(x), Foundation.exp(x)) <= 4, "exp(\(x))")
        }
        for x in [-1e-300, 0, 1e-300, 1, -1, 0.5, 709.7, -708.3] {
            #expect(Self.ulps(ExactMath.exp(x), Foundation.exp(x)) <= 4, "exp(\(x))")
        }
        #expect(ExactMath.exp(0) == 1)
        #expect(ExactMath.exp(800) == .infinity)
        #expect(ExactMath.exp(-800) == 0)
        #expect(ExactMath.exp(.nan).isNaN)
        // Subnormal results stay within a rounding of the true value.
        #expect(abs(ExactMath.exp(-740) - Foundation.exp(-740)) <= 2 * Double.leastNonzeroMagnitude)
    }

    @Test func logAgreesWithTheCLibraryToAFewUlps() {
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<20_000 {
            let x = Foundation.exp((rng.nextUnitDouble() * 2 - 1) * 700)
            #expect(Self.ulps(ExactMath.log(x), Foundation.log(x)) <= 4, "log(\(x))")
        }
        for x in [1.0, 2, 0.5, 1e-310, Double.leastNonzeroMagnitude, 1.0000001, 0.9999999, 1e308] {
            #expect(abs(ExactMath.log(x) - Foundation.log(x)) <= 4 * max(abs(Foundation.log(x)).ulp, 1e-16), "log(\(x))")
        }
        #expect(ExactMath.log(1) == 0)
        #expect(ExactMath.log(0) == -.infinity)
        #expect(ExactMath.log(-1).isNaN)
        #expect(ExactMath.log(.infinity) == .infinity)
    }

    @Test func cosAgreesWithTheCLibraryToAFewUlps() {
        var rng = SeededGenerator(seed: 6)
        for _ in 0..<20_000 {
            let x = rng.nextUnitDouble() * 2 * Double.pi
            // Near its zeros cos is ill-conditioned in x; compare absolutely there.
            #expect(abs(ExactMath.cos(x) - Foundation.cos(x)) <= 4 * max(abs(Foundation.cos(x)).ulp, 1e-17), "cos(\(x))")
        }
        #expect(ExactMath.cos(0) == 1)
        #expect(abs(ExactMath.cos(Double.pi) + 1) < 1e-16)
        #expect(abs(ExactMath.cos(1000.5) - Foundation.cos(1000.5)) < 1e-14)
        #expect(ExactMath.cos(.infinity).isNaN)
    }

    @Test func gaussianSamplesMatchTheCLibraryBoxMuller() {
        // Same formula with the C library's functions: the float samples coincide (the double
        // results differ by at most a few ulps, far below float resolution).
        var a = SeededGenerator(seed: 77), b = SeededGenerator(seed: 77)
        var same = 0
        for _ in 0..<100_000 {
            let x = a.nextGaussian()
            var u1 = b.nextUnitDouble()
            if u1 < 1e-300 { u1 = 1e-300 }
            let u2 = b.nextUnitDouble()
            let y = Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
            if x == y { same += 1 }
        }
        #expect(same >= 99_990)
    }

    @Test func powByHandAndAgainstTheCLibrary() {
        #expect(ExactMath.pow(2, 10) == 1024 || Self.ulps(ExactMath.pow(2, 10), 1024) <= 2)
        #expect(ExactMath.pow(5, 0) == 1)
        #expect(ExactMath.pow(0, 2) == 0)
        #expect(ExactMath.pow(0, -1) == .infinity)
        #expect(ExactMath.pow(1, 1e300) == 1)
        for (x, y) in [(0.5, 1.0 / 3), (1234.5, 0.75), (0.001, 0.75), (7.0, -2.5)] {
            #expect(Self.ulps(ExactMath.pow(x, y), Foundation.pow(x, y)) <= 16, "pow(\(x), \(y))")
        }
    }
}
