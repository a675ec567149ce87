"""A Dockerfile read as its instructions, so tests can check the image's structure and run the
command it runs: continuation lines joined, comments and parser directives dropped, JSON-form
arguments (`CMD ["429chain", "serve"]`) decoded. No container engine runs on these machines."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    stage: str

    def words(self) -> list[str]:
        """The arguments as a list: JSON form as written, shell form split as a shell would."""
        text = self.arguments.strip()
        if text.startswith("["):
            decoded = json.loads(text)
            assert isinstance(decoded, list) and all(isinstance(w, str) for w in decoded)
            return decoded
        return shlex.split(text)


def read_dockerfile(path: Path) -> list[Instruction]:
    instructions: list[Instruction] = []
    stage = ""
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        pending = ""
        keyword = keyword.upper()
        if keyword == "FROM":
            words = arguments.split()
            stage = words[2] if len(words) >= 3 and words[1].upper() == "AS" else words[0]
        instructions.append(Instruction(keyword, arguments.strip(), stage))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    """The instructions of the last stage: what the image is."""
    starts = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    return instructions[starts[-1] :]


def environment(instructions: list[Instruction]) -> dict[str, str]:
    """The `ENV key=value ...` pairs of these instructions, in order."""
    found: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.arguments):
                name, equals, value = pair.partition("=")
                assert equals, f"ENV {instruction.arguments}: use the key=value form"
                found[name] = value
    return found


def one(instructions: list[Instruction], keyword: str) -> Instruction:
    """The last instruction named `keyword` (the one that counts, as for CMD)."""
    matching = [ins for ins in instructions if ins.keyword == keyword]
    assert matching, f"no {keyword} in the image's stage"
    return matching[-1]


def image_command(instructions: list[Instruction]) -> list[str]:
    """ENTRYPOINT followed by CMD, as the image runs them."""
    stage = final_stage(instructions)
    return one(stage, "ENTRYPOINT").words() + one(stage, "CMD").words()


def healthcheck_command(instructions: list[Instruction]) -> list[str]:
    words = one(final_stage(instructions), "HEALTHCHECK").arguments.split(" CMD ", 1)
    assert len(words) == 2, "HEALTHCHECK ... CMD [...]"
    return Instruction("CMD", words[1], "").words()
