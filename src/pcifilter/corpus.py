# SPDX-License-Identifier: Apache-2.0
"""Speech and music corpora for talk-off, talk-down and leak tests, built from what a Debian
machine can install: espeak-ng voices in many languages and variants, and music synthesised
here (harmonic timbres, chords, vibrato, percussion); and, recorded, the telephone prompts of
Debian's asterisk-core-sounds-*-wav packages (five voices, four women and a man, in English,
Spanish, French, Italian and Russian: 131 minutes at 8 kHz) and the music on hold of
asterisk-moh-opsound-wav (18 minutes), through `recorded()`.

`python -m pcifilter.corpus --minutes 60 --out DIR` writes them as 8 kHz int16 raw files;
the tests build them into a cache directory on first use (deterministic for a seed).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pcifilter import signals as sg

Int16Array = npt.NDArray[np.int16]

# (espeak-ng voice, text) pairs: real sentences, with pseudo-words added per language.
SENTENCES = {
    "en-us": [
        "Thank you for calling, my name is Sam, how can I help you today?",
        "I would like to pay the outstanding balance on my account please.",
        "Could you confirm the first line of your address and your postcode?",
        "The payment will be taken today and you will receive an email receipt.",
        "Sorry, the line is a little noisy, could you say that again more slowly?",
        "Is there anything else I can help you with this afternoon?",
    ],
    "en-gb": [
        "Right, I can see the invoice from the twenty third of March here.",
        "We will move you over to our secure payment line in just a moment.",
        "Lovely, that has gone through, the reference number is on its way.",
    ],
    "de": [
        "Guten Tag, Sie sprechen mit dem Kundendienst, wie kann ich Ihnen helfen?",
        "Bitte geben Sie jetzt Ihre Kartennummer über die Tastatur ein.",
        "Vielen Dank, die Zahlung wurde erfolgreich verbucht.",
    ],
    "fr": [
        "Bonjour, merci de votre appel, je vais vérifier votre dossier.",
        "Vous pouvez maintenant saisir le numéro de votre carte bancaire.",
        "Le paiement a bien été accepté, bonne journée à vous.",
    ],
    "es": [
        "Buenas tardes, le atiende el servicio de atención al cliente.",
        "Por favor, introduzca ahora el número de su tarjeta.",
        "Muchas gracias, el pago se ha realizado correctamente.",
    ],
    "it": [
        "Buongiorno, in che cosa posso esserle utile oggi?",
        "Il pagamento è andato a buon fine.",
    ],
    "nl": ["Goedemiddag, waarmee kan ik u van dienst zijn?", "De betaling is gelukt, dank u wel."],
    "pt": ["Bom dia, em que posso ajudar?", "O pagamento foi processado com sucesso."],
    "pl": ["Dzień dobry, w czym mogę pomóc?", "Płatność została przyjęta, dziękuję."],
    "hi": ["नमस्ते, मैं आपकी क्या सहायता कर सकता हूँ?"],
    "cmn": ["你好，请问有什么可以帮您？", "付款已经成功，谢谢。"],
    "ja": ["お電話ありがとうございます。"],
    "ar": ["مرحبا، كيف يمكنني مساعدتك اليوم؟"],
    "ru": ["Здравствуйте, чем я могу вам помочь?", "Оплата прошла успешно, спасибо."],
}
VARIANTS = [
    "",
    "+m1",
    "+m3",
    "+m5",
    "+f1",
    "+f2",
    "+f3",
    "+f4",
    "+f5",
    "+klatt",
    "+whisper",
    "+croak",
]
_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "su",
    "ren",
    "ta",
    "vo",
    "sha",
    "pe",
    "dri",
    "nu",
    "gel",
    "ob",
    "ix",
    "zu",
    "far",
    "hem",
    "wi",
    "tro",
    "bla",
]


def espeak_available() -> bool:
    """Whether espeak-ng and sox are on PATH."""
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def speak(text: str, voice: str, speed: int = 160, pitch: int = 50) -> Int16Array:
    """espeak-ng speech resampled to 8 kHz by sox (without dither: sox's default dither is
    random, and a corpus must come out the same on every build)."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), text],
            check=True,
            capture_output=True,
        )
        raw = subprocess.run(
            [
                "sox",
                "-D",  # no dither
                str(wav),
                "-r",
                "8000",
                "-b",
                "16",
                "-c",
                "1",
                "-e",
                "signed",
                "-t",
                "raw",
                "-",
            ],
            check=True,
            capture_output=True,
        ).stdout
    return np.frombuffer(raw, dtype=np.int16).copy()


def _normalise(x: npt.NDArray[np.float64], level_dbm0: float) -> npt.NDArray[np.float64]:
    """Scale so the active (above -50 dB re peak) part sits at `level_dbm0`."""
    a = np.abs(x)
    active = x[a > a.max() * 10 ** (-50 / 20)] if a.max() > 0 else x
    p = float(np.mean(active.astype(np.float64) ** 2)) if active.size else 1.0
    target = sg.dbm0_to_amplitude(level_dbm0) ** 2 / 2
    gain = float(np.sqrt(target / max(p, 1e-9)))
    return x * gain


def speech(seconds: float, seed: int = 0, level_dbm0: float = -15.0) -> Int16Array:
    """About `seconds` of speech in many voices, languages, speeds and pitches."""
    rng = np.random.default_rng(seed)
    langs = sorted(SENTENCES)
    parts: list[npt.NDArray[np.float64]] = []
    total = 0
    while total < seconds * 8000:
        lang = langs[int(rng.integers(len(langs)))]
        if rng.random() < 0.5:
            text = " ".join(
                SENTENCES[lang][int(rng.integers(len(SENTENCES[lang])))] for _ in range(3)
            )
        else:  # pseudo-words in that language's phonology
            text = " ".join(
                "".join(rng.choice(_SYLLABLES, int(rng.integers(1, 4))))
                for _ in range(int(rng.integers(8, 20)))
            )
        voice = lang + VARIANTS[int(rng.integers(len(VARIANTS)))]
        try:
            x = speak(text, voice, int(rng.integers(110, 230)), int(rng.integers(10, 90)))
        except subprocess.CalledProcessError:
            x = speak(text, lang)
        seg = _normalise(x.astype(np.float64), level_dbm0 + float(rng.uniform(-8, 6)))
        gap = np.zeros(int(rng.integers(400, 4000)))
        parts += [seg, gap]
        total += len(seg) + len(gap)
    return sg.to_int16(np.concatenate(parts)[: int(seconds * 8000)])


def music(seconds: float, seed: int = 0, level_dbm0: float = -15.0) -> Int16Array:
    """Synthesised music: melodies and chords in harmonic timbres, vibrato, percussion."""
    rng = np.random.default_rng(seed)
    n_total = int(seconds * 8000)
    out = np.zeros(n_total + 16000)
    pos = 0
    while pos < n_total:
        # One phrase: a tempo, a timbre (harmonic amplitudes), a key.
        beat = int(8000 * rng.uniform(0.12, 0.6))
        n_h = int(rng.integers(3, 10))
        amps = rng.uniform(0.2, 1.0, n_h) / np.arange(1, n_h + 1) ** rng.uniform(0.5, 1.5)
        root = int(rng.integers(40, 70))  # MIDI note
        vibrato = rng.uniform(0, 0.01)
        for _ in range(int(rng.integers(8, 32))):
            voices = int(rng.integers(1, 4))
            dur = beat * int(rng.integers(1, 4))
            t = np.arange(dur) / 8000
            env = np.minimum(1, t / 0.01) * np.exp(-t * rng.uniform(0.5, 6))
            note = np.zeros(dur)
            for _v in range(voices):
                midi = root + int(rng.choice([0, 2, 4, 5, 7, 9, 11, 12, 14, 16]))
                f0 = 440 * 2 ** ((midi - 69) / 12) * (1 + vibrato * np.sin(2 * np.pi * 5.5 * t))
                phase = 2 * np.pi * np.cumsum(f0) / 8000
                for h, a in enumerate(amps, start=1):
                    if f0.max() * h < 3800:
                        note += a * np.sin(h * phase + rng.uniform(0, 6.28))
            if rng.random() < 0.3:  # percussion: a short noise burst
                k = min(dur, 800)
                note[:k] += rng.normal(0, 0.5, k) * np.exp(-np.arange(k) / 150)
            out[pos : pos + dur] += note * env
            pos += dur
            if pos >= n_total:
                break
    return sg.to_int16(_normalise(out[:n_total], level_dbm0))


def cache_dir() -> Path:
    """Where built corpora are kept ($PCIFILTER_CACHE or ~/.cache/pcifilter)."""
    base = os.environ.get("PCIFILTER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "pcifilter"
    )
    return Path(base)


def cached(kind: str, seconds: float, seed: int = 0) -> Int16Array:
    """A corpus from the cache, built on first use. Processes that ask for one corpus at
    once (the test suite's workers) build it once: the others wait for it."""
    path = cache_dir() / f"{kind}-{int(seconds)}s-seed{seed}.raw"
    if path.exists():
        return np.fromfile(path, dtype=np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if path.exists():  # built while this process waited
            return np.fromfile(path, dtype=np.int16)
        x = speech(seconds, seed) if kind == "speech" else music(seconds, seed)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        x.tofile(tmp)
        tmp.replace(path)
    return x


# Recorded telephone speech (each voice's prompts) and music on hold, as Debian installs them.
ASTERISK_SOUNDS = Path("/usr/share/asterisk/sounds")
RECORDED_VOICES = (
    "en_US_f_Allison",
    "es_MX_f_Allison",
    "fr_CA_f_June",
    "it_IT_m_Carlo",
    "ru_RU_f_IvrvoiceRU",
)
ASTERISK_MOH = Path("/usr/share/asterisk/moh")


def _recorded_files(kind: str) -> list[Path]:
    if kind == "speech":
        dirs = [ASTERISK_SOUNDS / v for v in RECORDED_VOICES]
    elif kind == "music":
        dirs = [ASTERISK_MOH]
    else:
        raise ValueError(f"kind must be 'speech' or 'music', not {kind!r}")
    for d in dirs:  # all of them or none: a corpus with a voice missing is another corpus
        if not d.is_dir():
            raise FileNotFoundError(
                f"{d} is missing: install Debian's asterisk-core-sounds-{{en,es,fr,it,ru}}-wav "
                "and asterisk-moh-opsound-wav (./dev.sh does)"
            )
    return sorted(p for d in dirs for p in d.rglob("*.wav"))


def recorded(kind: str) -> Int16Array:
    """Recorded speech (every prompt of the five voices, in path order, each followed by
    0.1 s of silence) or music (the music-on-hold pieces), at the level they were recorded:
    8 kHz int16, checked file by file."""
    parts = []
    for path in _recorded_files(kind):
        with wave.open(str(path)) as w:
            if (w.getframerate(), w.getsampwidth(), w.getnchannels()) != (8000, 2, 1):
                raise ValueError(f"{path}: not 8 kHz 16-bit mono")
            parts.append(np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"))
        if kind == "speech":
            parts.append(np.zeros(800, np.int16))
    if not parts:
        raise FileNotFoundError(f"no recorded {kind} found: are the asterisk sound packages whole?")
    return np.concatenate(parts).astype(np.int16)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=cache_dir())
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    for kind in ("speech", "music"):
        x = speech(a.minutes * 60, a.seed) if kind == "speech" else music(a.minutes * 60, a.seed)
        x.tofile(a.out / f"{kind}-{int(a.minutes * 60)}s-seed{a.seed}.raw")
        print(f"{kind}: {len(x) / 8000 / 60:.1f} min -> {a.out}")


if __name__ == "__main__":
    main()
