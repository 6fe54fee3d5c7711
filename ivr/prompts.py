"""``hotline prompts build``: synthesise missing prompt audio with espeak-ng + sox.

Output: ``<out>/<lang>/<audio>.wav`` for every prompt text, and ``<out>/<lang>/say/<token>.wav``
for the number vocabulary (``ivr.say``), as 8 kHz mono 16-bit signed PCM WAV — the format
Asterisk's ``format_wav`` plays without transcoding surprises.

Idempotent: ``<out>/manifest.json`` maps each file we synthesised to a hash of (voice, text). A
file is rebuilt only when that hash changes; a file that is not in the manifest (a recording made
by a person) is never overwritten.

Mixed Chinese/English text (``普通话请按1。For English, please press 2.``) is split into runs:
Latin runs are spoken by the English voice, the rest by the Chinese one, then joined by sox.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ivr.config import IvrConfig
from ivr.say import SAY_DIR, VOCABULARY

MANIFEST = "manifest.json"
SAMPLE_RATE = 8000
# A Latin run worth giving to the English voice: at least two letters (not "A" in "A卡").
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9 ,.'!?:;()-]*[A-Za-z.!?]")


class PromptToolsMissing(RuntimeError):
    """espeak-ng or sox is not installed."""


class SynthesisError(RuntimeError):
    pass


@dataclass(frozen=True)
class PromptAudio:
    """One file to produce: ``<lang>/<name>.wav`` saying ``text``."""

    language: str
    name: str  # relative to the language dir, without extension (``common-goodbye``, ``say/n1``)
    text: str

    @property
    def relative(self) -> str:
        return f"{self.language}/{self.name}.wav"


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept_recordings: list[str] = field(default_factory=list)

    def describe(self, out: Path) -> str:
        kept = f", {len(self.kept_recordings)} recorded kept" if self.kept_recordings else ""
        return f"prompts in {out}: {len(self.built)} built, {self.unchanged} unchanged{kept}"


def wanted_audio(config: IvrConfig) -> list[PromptAudio]:
    """Every prompt text in every language it has, plus the number vocabulary per language."""
    wanted: dict[str, PromptAudio] = {}
    languages: set[str] = {lang for hotline in config.hotlines for lang in hotline.languages}
    for prompt in config.prompts.values():
        for language, text in prompt.text.items():
            audio = PromptAudio(language, prompt.audio, text)
            wanted.setdefault(audio.relative, audio)  # two prompts may share one file
            languages.add(language)
    for language in sorted(languages):
        for token, text in VOCABULARY.get(language, {}).items():
            audio = PromptAudio(language, f"{SAY_DIR}/{token}", text)
            wanted[audio.relative] = audio
    return sorted(wanted.values(), key=lambda audio: audio.relative)


def speech_runs(text: str, language: str) -> list[tuple[str, str]]:
    """``[(language, text)]`` runs: Latin text inside Chinese goes to the English voice."""
    if language != "zh":
        return [(language, text)]
    runs: list[tuple[str, str]] = []
    position = 0
    for match in _LATIN_RUN.finditer(text):
        if match.start() > position:
            runs.append(("zh", text[position : match.start()]))
        runs.append(("en", match.group(0)))
        position = match.end()
    if position < len(text):
        runs.append(("zh", text[position:]))
    return [(lang, run) for lang, run in runs if run.strip(" ,.，。")] or [("zh", text)]


Synthesize = Callable[[PromptAudio, Path], None]


class EspeakSynthesizer:
    """espeak-ng (one call per run) + sox (resample, join). Voices per language from settings."""

    def __init__(self, voices: Mapping[str, str]) -> None:
        missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
        if missing:
            raise PromptToolsMissing(
                f"{' and '.join(missing)} not found: install them (Debian: "
                "apt-get install espeak-ng sox) or record the prompts yourself"
            )
        self._voices = dict(voices)

    def fingerprint(self, audio: PromptAudio) -> str:
        voices = [self._voice(lang) for lang, _ in speech_runs(audio.text, audio.language)]
        key = orjson.dumps([voices, audio.text, SAMPLE_RATE])
        return hashlib.sha256(key).hexdigest()[:16]

    def _voice(self, language: str) -> str:
        return self._voices.get(language, language)

    def __call__(self, audio: PromptAudio, target: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="hotline-tts-") as tmp:
            parts = []
            for index, (language, text) in enumerate(speech_runs(audio.text, audio.language)):
                part = Path(tmp) / f"{index}.wav"
                _run(["espeak-ng", "-v", self._voice(language), "-w", str(part), "--", text])
                parts.append(str(part))
            _run(["sox", *parts, "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16",
                  "-e", "signed-integer", "-t", "wav", str(target)])  # fmt: skip


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    if proc.returncode != 0:
        raise SynthesisError(f"{argv[0]} failed (exit {proc.returncode}): {proc.stderr.strip()}")


def _read_manifest(out: Path) -> dict[str, str]:
    try:
        data = orjson.loads((out / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def build_prompts(
    wanted: Iterable[PromptAudio],
    out: Path,
    synthesize: Synthesize,
    fingerprint: Callable[[PromptAudio], str],
    *,
    force: bool = False,
    workers: int | None = None,
) -> BuildReport:
    """Produce what is missing or changed; keep recordings; write the manifest last."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(out)
    report = BuildReport()
    todo: list[tuple[PromptAudio, str]] = []
    for audio in wanted:
        target = out / audio.relative
        digest = fingerprint(audio)
        if target.exists() and audio.relative not in manifest:
            report.kept_recordings.append(audio.relative)
        elif target.exists() and manifest.get(audio.relative) == digest and not force:
            report.unchanged += 1
        else:
            todo.append((audio, digest))

    def make(item: tuple[PromptAudio, str]) -> tuple[str, str]:
        audio, digest = item
        target = out / audio.relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        synthesize(audio, partial)
        os.replace(partial, target)  # never a half-written file where Asterisk looks
        return audio.relative, digest

    try:
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
            for relative, digest in pool.map(make, todo):
                manifest[relative] = digest
                report.built.append(relative)
    finally:  # what was built stays recorded even if one synthesis failed
        (out / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS))
    return report
