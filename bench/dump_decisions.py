"""Write every decision of the examples and 2,500 generated inputs to one file, to check a
speed change decides byte-identically (issue 11):

    python bench/dump_decisions.py before.txt   # on the old commit
    python bench/dump_decisions.py after.txt && cmp before.txt after.txt

Each input is decided on the fast path (``decision_text``) and the typed path
(``decide(...).to_json()``); the rule base version and the decision id, which
hash the engine's source, are replaced by ``VERSION`` and ``DID``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from decide import EXAMPLES, varied_assessments

from engine import decide, evaluator_for


def main() -> int:
    evaluator = evaluator_for()
    documents = [json.loads(path.read_text("utf-8")) for path in sorted(EXAMPLES.glob("*.json"))]
    documents += varied_assessments(2000, 7) + varied_assessments(500, 11)
    lines = []
    for document in documents:
        for text in (evaluator.decision_text(document), decide(document).to_json()):
            decision_id = json.loads(text)["decision_id"]
            lines.append(text.replace(evaluator.version, "VERSION").replace(decision_id, "DID"))
    written = "\n".join(lines)
    Path(sys.argv[1]).write_text(written, "utf-8")
    print(len(documents), hashlib.sha256(written.encode()).hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main())
