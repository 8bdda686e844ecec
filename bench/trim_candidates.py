"""Compare reply trimmers on the labelled replies (not part of the test command).

    pip install -e ".[bench]"   # measuring only: neither library is used by hoering itself
    python -m bench.trim_candidates [--each]

Prints the mean similarity (difflib ratio) of each candidate's kept text to the golden answer,
and how many replies reach 0.90.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from flows.core.bodytext import split_answer
from tests.support.replies import labelled_replies, scores


def _quotequail(text: str) -> str:
    import quotequail

    return "\n".join(part for shown, part in quotequail.quote(text) if shown)


def _mail_parser_reply(text: str) -> str:
    from mailparser_reply import EmailReplyParser

    parser = EmailReplyParser(languages=["da", "en", "de", "sv", "it", "fr", "nl", "es"])
    return parser.parse_reply(text) or ""


def _quotequail_then_ours(text: str) -> str:
    return split_answer(_quotequail(text))


def candidates() -> dict[str, Callable[[str], str]]:
    found: dict[str, Callable[[str], str]] = {"hoering (split_answer)": split_answer}
    try:
        import quotequail  # noqa: F401

        found["quotequail 0.5"] = _quotequail
        found["quotequail + hoering"] = _quotequail_then_ours
    except ImportError:
        pass
    try:
        import mailparser_reply  # noqa: F401

        found["mail-parser-reply 1.36"] = _mail_parser_reply
    except ImportError:
        pass
    return found


def main() -> None:
    replies = labelled_replies()
    each = "--each" in sys.argv
    print(f"{len(replies)} labelled replies")
    print(f"{'candidate':28} {'mean':>6} {'≥0.90':>6}")
    for name, trim in candidates().items():
        got = scores(trim, replies)
        mean = sum(got.values()) / len(got)
        print(f"{name:28} {mean:6.3f} {sum(v >= 0.9 for v in got.values()):4}/{len(got)}")
        if each:
            for case, value in got.items():
                if value < 0.9:
                    print(f"    {value:.2f} {case}")


if __name__ == "__main__":
    main()
