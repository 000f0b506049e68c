"""Tiny fake corpus trees in each corpus' native release layout (short generated waveforms, real file
names, label/annotation files in the real formats). Everything is written under a given tmp folder."""

from __future__ import annotations

import csv
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000


def write_wav(path: Path, *, seconds: float = 0.25, sr: int = SR, channels: int = 1) -> Path:
    """A short seeded tone + noise (never silent), deterministic per file name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(path.name.encode()))
    t = np.arange(int(seconds * sr)) / sr
    wave = 0.3 * np.sin(2 * np.pi * rng.uniform(120, 400) * t) + 0.01 * rng.standard_normal(t.size)
    data = np.stack([wave] * channels, axis=1) if channels > 1 else wave
    sf.write(str(path), data.astype(np.float32), sr, subtype="PCM_16")
    return path


# -- RAVDESS: Actor_XX/03-01-EE-II-SS-RR-AA.wav ----------------------------------------------------------
def make_ravdess(root: Path, actors=(1, 2, 3, 4), emotions=("01", "03", "04", "05", "06")) -> Path:
    for a in actors:
        for e in emotions:
            for stmt in ("01", "02"):
                write_wav(root / f"Actor_{a:02d}" / f"03-01-{e}-01-{stmt}-01-{a:02d}.wav")
        write_wav(root / f"Actor_{a:02d}" / f"03-02-05-01-01-01-{a:02d}.wav")  # song: skipped
    return root


# -- EmoDB: wav/SSTTTEV.wav --------------------------------------------------------------------------------
def make_emodb(root: Path, speakers=("03", "08", "09", "10"), letters="WLEAFTN") -> Path:
    for s in speakers:
        for i, e in enumerate(letters):
            write_wav(root / "wav" / f"{s}a0{1 + i % 5}{e}a.wav")
    return root


# -- CREMA-D: AudioWAV/AAAA_SSS_EEE_LL.wav + processedResults/tabulatedVotes.csv ---------------------------
CREMA_HEADER = ["", "A", "D", "F", "H", "N", "S", "fileName", "numResponses", "agreement", "emoVote"]


def make_cremad(root: Path, actors=("1001", "1002", "1003"), votes: bool = True) -> dict[str, list[int]]:
    """Returns clip -> voice-only votes [A, D, F, H, N, S] written in the table."""
    clips = [f"{a}_{s}_{e}_{lvl}" for a in actors for s, lvl in (("DFA", "XX"), ("IEO", "HI"))
             for e in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")]
    rng = np.random.default_rng(0)
    table = {}
    for c in clips:
        write_wav(root / "AudioWAV" / f"{c}.wav")
        table[c] = [int(x) for x in rng.integers(0, 5, size=6)]
    table[clips[0]] = [0, 3, 2, 0, 0, 0]  # only disgust/fear votes: no emo4 soft label
    if votes:
        out = root / "processedResults" / "tabulatedVotes.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="") as fh:
            w = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC)
            w.writerow(CREMA_HEADER)
            for cond in (1, 2, 3):  # voice, face, audio-visual: only the voice rows hold `table`
                for i, c in enumerate(clips, start=1):
                    v = table[c] if cond == 1 else [9, 0, 0, 0, 0, 0]
                    w.writerow([f"{cond}{i:05d}", *v, c, sum(v), 0.5, "A"])
    return table


# -- ESD: SSSS/<Emotion>/{train,evaluation,test}/SSSS_NNNNNN.wav --------------------------------------------
def make_esd(root: Path, speakers=("0001", "0011", "0012", "0013")) -> Path:
    emotions = ("Neutral", "Angry", "Happy", "Sad", "Surprise")
    for s in speakers:
        for k, emo in enumerate(emotions):
            for j, split in enumerate(("train", "train", "evaluation", "test")):
                write_wav(root / "Emotion Speech Dataset" / s / emo / split / f"{s}_{k * 350 + j + 1:06d}.wav")
    return root


# -- JL-Corpus: female1_angry_1a_1.wav ---------------------------------------------------------------------
def make_jl(root: Path) -> Path:
    d = root / "Raw JL corpus (unchecked and unannotated)" / "JL(wav+txt)"
    for spk in ("female1", "female2", "male1", "male2"):
        for emo in ("angry", "sad", "neutral", "happy", "excited", "anxious"):
            for sent in ("1a", "2b"):
                write_wav(d / f"{spk}_{emo}_{sent}_1.wav")
                (d / f"{spk}_{emo}_{sent}_1.txt").write_text("a transcript\n")
    return root


# -- eNTERFACE'05: subject N/<emotion>/sentence K/sN_xx_K.avi (+ extracted .wav) -----------------------------
def make_enterface(root: Path, subjects=(1, 2, 11)) -> Path:
    abbrev = {"anger": "an", "disgust": "di", "fear": "fe", "happiness": "ha", "sadness": "sa", "surprise": "su"}
    for n in subjects:
        for emo, ab in abbrev.items():
            for k in (1, 2):
                d = root / f"subject {n}" / emo / f"sentence {k}"
                name = f"s{12 if n == 11 else n}_{ab}_{k}"  # the release misnames subject 11's files
                d.mkdir(parents=True, exist_ok=True)
                (d / f"{name}.avi").write_bytes(b"RIFF....AVI ")
                write_wav(d / f"{name}.wav")
    return root


# -- EMNS: metadata.csv (pipe-separated) + recordings -------------------------------------------------------
def make_emns(root: Path) -> Path:
    cols = ["id", "utterance", "description", "emotion", "date_created", "status", "gender", "age", "level",
            "audio_recording", "user_id"]
    emotions = ["Angry", "Happy", "Sad", "Neutral", "Excited", "Surprised", "Disgust", "Sarcastic"]
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "metadata.csv", "w", newline="") as fh:
        w = csv.writer(fh, delimiter="|")
        w.writerow(cols)
        for i in range(16):
            stem = f"recorded_audio_{i:04d}abc"
            emo = emotions[i % len(emotions)]
            w.writerow([i, "Some sentence.", "{user_id} said {transcription}", emo, "2022-07-18 14:40:50",
                        "Complete", "female", "20s", i % 9, f"wavs/{stem}.webm", 3])
            (root / "wavs").mkdir(exist_ok=True)
            (root / "wavs" / f"{stem}.webm").write_bytes(b"\x1aE\xdf\xa3")
            if i != 15:  # the last one is left unconverted
                write_wav(root / "wavs" / f"{stem}.wav")
    return root


# -- IEMOCAP: SessionN/dialog/EmoEvaluation/<dialog>.txt + SessionN/sentences/wav/<dialog>/<utt>.wav ----------
IEMOCAP_UTTS = {
    # utt: (consensus code, [evaluator lines])
    "Ses01F_impro01_F000": ("neu", ["C-E2:\tNeutral;\t()", "C-E3:\tNeutral;\t()", "C-E4:\tFrustration;\t()",
                                    "C-F1:\tAnger;\t(self)"]),
    "Ses01F_impro01_M001": ("ang", ["C-E1:\tAnger;\t()", "C-E2:\tAnger; Frustration;\t()", "C-E4:\tSadness;\t()"]),
    "Ses01F_impro01_F002": ("exc", ["C-E1:\tExcited;\t()", "C-E2:\tHappiness;\t()", "C-E3:\tNeutral;\t()"]),
    "Ses01F_impro01_M003": ("xxx", ["C-E1:\tAnger;\t()", "C-E2:\tSadness;\t()", "C-E3:\tNeutral;\t()"]),
    "Ses01F_impro01_F004": ("fru", ["C-E1:\tFrustration;\t()", "C-E2:\tFrustration;\t()", "C-E3:\tAnger;\t()"]),
    "Ses01F_impro01_M005": ("sad", ["C-E1:\tSadness;\t()", "C-E2:\tOther;\t(sarcastic)", "C-E3:\tSadness;\t()"]),
}


def _iemocap_block(start: float, name: str, code: str, evals: list[str]) -> str:
    lines = [f"[{start:.4f} - {start + 1.5:.4f}]\t{name}\t{code}\t[2.5000, 3.0000, 3.0000]", *evals,
             "A-E1:\tval 3; act 2; dom  2;\t()", ""]
    return "\n".join(lines) + "\n"


def make_iemocap(root: Path, sessions=(1, 2)) -> Path:
    for n in sessions:
        dialog = f"Ses0{n}F_impro01"
        ev = root / f"Session{n}" / "dialog" / "EmoEvaluation"
        ev.mkdir(parents=True, exist_ok=True)
        text = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
        for i, (utt, (code, evals)) in enumerate(IEMOCAP_UTTS.items()):
            name = utt.replace("Ses01F", f"Ses0{n}F")
            text += _iemocap_block(6.0 + 3 * i, name, code, evals)
            write_wav(root / f"Session{n}" / "sentences" / "wav" / dialog / f"{name}.wav")
        (ev / f"{dialog}.txt").write_text(text)
        (ev / f"._{dialog}.txt").write_bytes(b"\x00\x05\x16\x07 mac resource fork")  # must be ignored
        (ev / "Categorical").mkdir(exist_ok=True)
    return root


# -- MSP-Podcast: Labels/labels_consensus.csv (+ labels_detailed.csv) and Audios/ --------------------------------
MSP_ROWS = [  # FileName, EmoClass, SpkrID, Split_Set, primary votes
    ("MSP-PODCAST_0001_0001.wav", "A", "10", "Train", ["Angry", "Angry", "Neutral"]),
    ("MSP-PODCAST_0001_0002.wav", "H", "10", "Train", ["Happy", "Happy", "Happy", "Surprise"]),
    ("MSP-PODCAST_0002_0001.wav", "N", "11", "Development", ["Neutral", "Sad", "Other-Concerned"]),
    ("MSP-PODCAST_0002_0002.wav", "S", "11", "Test1", ["Sad", "Sad", "Neutral", "Angry"]),
    ("MSP-PODCAST_0003_0001.wav", "X", "12", "Test1", ["Angry", "Happy", "Sad"]),
    ("MSP-PODCAST_0003_0002.wav", "C", "12", "Test2", ["Contempt", "Contempt", "Angry"]),
    ("MSP-PODCAST_0004_0001.wav", "N", "Unknown", "Train", ["Neutral", "Neutral", "Neutral"]),
]


def make_msp_podcast(root: Path, detailed_style: str = "EmoDetail") -> Path:
    (root / "Labels").mkdir(parents=True, exist_ok=True)
    with open(root / "Labels" / "labels_consensus.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"])
        for f, c, spk, split, _ in MSP_ROWS:
            w.writerow([f, c, 4.2, 3.8, 4.0, spk, "Female", split])
            write_wav(root / "Audios" / f)
    if detailed_style:
        with open(root / "Labels" / "labels_detailed.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            if detailed_style == "EmoDetail":
                w.writerow(["FileName", "EmoDetail"])
                for f, *_, votes in MSP_ROWS:
                    for k, v in enumerate(votes):
                        w.writerow([f, f"WORKER{k:05d}; {v}; Frustrated,Annoyed; A:2.0; V:3.0; D:4.0;"])
            else:
                w.writerow(["FileName", "WorkerID", "EmoClass_Major", "EmoClass_Second", "EmoAct", "EmoVal", "EmoDom"])
                for f, *_, votes in MSP_ROWS:
                    for k, v in enumerate(votes):
                        w.writerow([f, f"WORKER{k:05d}", v, "Annoyed", 2, 3, 4])
    return root
