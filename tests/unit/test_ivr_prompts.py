"""Prompt audio: numbers spoken per language, the idempotent build, the real synthesiser's
output format, and the copy into the local PBX's root."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.settings import Settings
from hotline.pbx import local_pbx
from ivr.config import load_config
from ivr.prompts import (
    MANIFEST,
    EspeakSynthesizer,
    PromptAudio,
    PromptToolsMissing,
    build_prompts,
    speech_runs,
    wanted_audio,
)
from ivr.say import VOCABULARY, CannotSay, spoken_tokens, text_of

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ivr" / "e2e"


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        ("0", "零", "zero"),
        ("10", "十", "ten"),
        ("105", "一百零五", "one hundred five"),
        ("1010", "一千零一十", "one thousand ten"),
        ("2000", "两千", "two thousand"),
        ("12345", "一万两千三百四十五", "twelve thousand three hundred forty five"),
        ("20000", "两万", "twenty thousand"),
        ("100005", "十万零五", "one hundred thousand five"),
        ("100000001", "一亿零一", "one hundred million one"),
        ("1000000000000", "一万亿", "one trillion"),
        ("-7", "负七", "minus seven"),
    ],
)
def test_numbers(value: str, zh: str, en: str) -> None:
    assert text_of(spoken_tokens(value, "number", "zh"), "zh") == zh
    assert text_of(spoken_tokens(value, "number", "en"), "en") == en


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        ("12345.67", "一万两千三百四十五元六角七分", "twelve thousand three hundred forty five "
         "yuan and sixty seven fen"),
        ("2", "两元", "two yuan"),
        ("0.5", "五角", "fifty fen"),
        ("100.05", "一百元零五分", "one hundred yuan and five fen"),
        ("0", "零元", "zero yuan"),
    ],
)  # fmt: skip
def test_money(value: str, zh: str, en: str) -> None:
    assert text_of(spoken_tokens(value, "money", "zh"), "zh") == zh
    assert text_of(spoken_tokens(value, "money", "en"), "en") == en


def test_digits_and_refusals() -> None:
    assert spoken_tokens("4008", "digits", "zh") == ["n4", "n0", "n0", "n8"]
    for value, say_as, language in [("12a", "digits", "zh"), ("1.5", "number", "en"),
                                    ("1", "number", "fr"), ("1.234", "money", "zh")]:  # fmt: skip
        with pytest.raises(CannotSay):
            spoken_tokens(value, say_as, language)


@given(st.integers(min_value=0, max_value=10**15 - 1), st.sampled_from(["zh", "en"]))
def test_every_number_uses_only_the_vocabulary(number: int, language: str) -> None:
    tokens = spoken_tokens(str(number), "number", language)
    assert tokens and set(tokens) <= set(VOCABULARY[language])


def test_mixed_chinese_and_english_text_is_split_by_script() -> None:
    runs = speech_runs("普通话请按1。For English, please press 2.", "zh")
    assert runs == [("zh", "普通话请按1。"), ("en", "For English, please press 2.")]
    assert speech_runs("Welcome", "en") == [("en", "Welcome")]


class FakeSynth:
    def __init__(self) -> None:
        self.made: list[str] = []

    def __call__(self, audio: PromptAudio, target: Path) -> None:
        self.made.append(audio.relative)
        target.write_bytes(audio.text.encode())

    def fingerprint(self, audio: PromptAudio) -> str:
        return audio.text


def test_build_is_idempotent_rebuilds_changed_text_and_keeps_recordings(tmp_path: Path) -> None:
    config, problems = load_config(FIXTURE)
    assert config is not None, problems
    wanted = wanted_audio(config)
    assert PromptAudio("zh", "bank-welcome", "您好") in wanted
    assert any(audio.relative == "en/say/thousand.wav" for audio in wanted)
    out = tmp_path / "prompts"
    synth = FakeSynth()
    report = build_prompts(wanted, out, synth, synth.fingerprint)
    assert len(report.built) == len(wanted) and (out / MANIFEST).is_file()
    assert (out / "zh" / "bank-welcome.wav").read_bytes() == "您好".encode()
    again = build_prompts(wanted, out, synth, synth.fingerprint)
    assert again.built == [] and again.unchanged == len(wanted)
    # A person records the English welcome: it is never overwritten.
    (out / "en" / "bank-welcome.wav").unlink()
    (out / "en" / "bank-welcome.wav").write_bytes(b"RIFF recorded")
    manifest = (out / MANIFEST).read_text().replace('"en/bank-welcome.wav"', '"x"')
    (out / MANIFEST).write_text(manifest)
    changed = [PromptAudio(a.language, a.name, "欢迎光临") if a.relative == "zh/bank-welcome.wav"
               else a for a in wanted]  # fmt: skip
    report = build_prompts(changed, out, synth, synth.fingerprint)
    assert report.built == ["zh/bank-welcome.wav"]
    assert report.kept_recordings == ["en/bank-welcome.wav"]
    assert (out / "en" / "bank-welcome.wav").read_bytes() == b"RIFF recorded"


def test_missing_tools_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool == "sox" else "/usr/bin/x")
    with pytest.raises(PromptToolsMissing, match=r"sox not found.*apt-get install espeak-ng sox"):
        EspeakSynthesizer({"zh": "cmn"})


def test_real_synthesis_is_8khz_mono_16bit(tmp_path: Path) -> None:
    synth = EspeakSynthesizer({"zh": "cmn-latn-pinyin", "en": "en"})
    target = tmp_path / "x.wav"
    synth(PromptAudio("zh", "x", "普通话请按1。For English, press 2."), target)
    with wave.open(str(target)) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (8000, 1, 2)
        assert audio.getnframes() > 8000  # more than a second of speech


def test_pbx_sync_mirrors_prompts_into_the_instance(tmp_path: Path) -> None:
    source = tmp_path / "built"
    (source / "zh" / "say").mkdir(parents=True)
    (source / "zh" / "a.wav").write_bytes(b"a")
    (source / "zh" / "say" / "n1.wav").write_bytes(b"1")
    pbx = local_pbx(Settings.model_validate({"pbx": {"root": tmp_path / "root", "instance": "t1"}}))
    assert pbx.prompts_path == "/hotline/t1/prompts"
    assert pbx.sync_prompts(source) == 2
    target = tmp_path / "root" / "hotline" / "t1" / "prompts"
    assert (target / "zh" / "say" / "n1.wav").read_bytes() == b"1"
    assert pbx.sync_prompts(source) == 0
    (source / "zh" / "say" / "n1.wav").unlink()
    (source / "zh" / "a.wav").write_bytes(b"new")
    assert pbx.sync_prompts(source) == 1
    assert (target / "zh" / "a.wav").read_bytes() == b"new"
    assert not (target / "zh" / "say").exists()
