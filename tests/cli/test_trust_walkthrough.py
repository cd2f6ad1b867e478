from pathlib import Path

from cli.trust_walkthrough import run_trust_walkthrough


def test_trust_walkthrough_refuses_each_tampering(tmp_path: Path) -> None:
    lines: list[str] = []
    steps = run_trust_walkthrough(tmp_path, echo=lines.append)
    assert [s.outcome for s in steps] == [s.expected for s in steps]
    assert {s.outcome for s in steps} >= {"accepted", "digest-mismatch", "bin-mismatch", "certificate-expired",
                                          "certificate-revoked", "replay"}
    assert (tmp_path / "application.signed.xml").read_bytes().count(b"SignatureValue") == 2
    assert (tmp_path / "pki" / "ca.pem").is_file()
