"""The crypto floor: one RSA-2048 PKCS#1 v1.5 SHA-256 signature plus one verification.

No signed SOAP call can cost less than this, so the client cost of a signed call (bench a) is
reported as a multiple of it, measured in the same process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench import Row, per_call

# about the size of a canonical SignedInfo with two references
_MESSAGE = b"<ds:SignedInfo>" + b"x" * 900 + b"</ds:SignedInfo>"


@dataclass(frozen=True)
class FloorTimes:
    sign: float
    """Seconds for one signature."""
    verify: float
    """Seconds for one verification."""

    @property
    def total(self) -> float:
        return self.sign + self.verify


def operations() -> tuple[Callable[[], None], Callable[[], None]]:
    """(sign, verify) with a fresh RSA-2048 key (e = 65537): the two operations of the floor."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key()
    pad = padding.PKCS1v15()
    signature = key.sign(_MESSAGE, pad, hashes.SHA256())

    def sign() -> None:
        key.sign(_MESSAGE, pad, hashes.SHA256())

    def verify() -> None:
        public.verify(signature, _MESSAGE, pad, hashes.SHA256())

    return sign, verify


def measure(iterations: int = 400, repeats: int = 5) -> FloorTimes:
    """Median per-operation times."""
    sign, verify = operations()
    return FloorTimes(sign=per_call(sign, iterations=iterations, repeats=repeats),
                      verify=per_call(verify, iterations=iterations * 5, repeats=repeats))


def run(quick: bool = False) -> list[Row]:
    floor = measure(iterations=20 if quick else 400, repeats=3 if quick else 5)
    return [Row(bench="a", figure="crypto floor: RSA-2048 sign + verify (reference)", value=floor.total * 1e3,
                unit="ms", note=f"sign {floor.sign * 1e6:.0f} µs + verify {floor.verify * 1e6:.0f} µs "
                                "(cryptography, this process); the unit of the figures of bench a")]


if __name__ == "__main__":
    from bench import print_rows

    print_rows(run())
