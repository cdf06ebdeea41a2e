"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, the last a check character.

Alphabet: the digits and the capital letters except I, O, S, V and Z (31 characters, each worth its position in
`ALPHABET`). The check character is (31 - Σ value(i) x weight(i) mod 31) mod 31 over the first 17 characters.
Usable anywhere (no database): `credit_code_problem` says what is wrong with a code, or None when it is valid.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PATTERN = r"\A[0-9A-HJ-NPQRTUWXY]{18}\Z"  # the alphabet, 18 times (the check character is beyond a pattern)
_VALUE = {char: value for value, char in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    """The check character that completes these 17 characters of the alphabet."""
    total = sum(_VALUE[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> tuple[str, str] | None:
    """(error code, message) when `code` is no valid unified social credit code, else None. Every message names the
    check character, the one part of a code that a typing slip always breaks."""
    if len(code) != 18:
        return (
            "credit-code-format",
            f"a unified social credit code has 18 characters (17 and a check character), not {len(code)}",
        )
    for position, char in enumerate(code, start=1):
        if char not in _VALUE:
            return (
                "credit-code-format",
                f"character {position} ({char!r}) is not used in unified social credit codes: digits and capital "
                "letters except I, O, S, V, Z (GB 32100-2015), the check character (the 18th) included",
            )
    expected = check_character(code[:17])
    if code[17] != expected:
        return (
            "credit-code-check",
            f"the check character (the 18th) of {code} does not match: for {code[:17]} it is {expected}, "
            f"not {code[17]}; a character was probably mistyped (GB 32100-2015)",
        )
    return None
