"""Fake release trees of the cross-lingual probing paper's corpora, with the releases' real file names
(short generated waveforms, see each loader's docstring for where the names come from). Every tree also
holds one file with an unknown emotion code and one whose name is not in the corpus' format, so the
loaders' skip counts are known. Everything is written under the given folder."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from corpora_fixtures import write_wav

# -- AESDD: <emotion>/xAA (B)[take].wav ---------------------------------------------------------------------
AESDD_FOLDERS = {"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "s": "sadness"}


def make_aesdd(root: Path) -> Path:
    """2 speakers x 5 emotions x 2 utterances + 1 second take = 21 files (+ 2 skipped)."""
    top = root / "Acted Emotional Speech Dynamic Database"
    for letter, folder in AESDD_FOLDERS.items():
        for utt in ("01", "02"):
            speaker_one = "01" if (letter, utt) == ("d", "01") else "1"  # the release writes "(01)" too
            write_wav(top / folder / f"{letter}{utt} ({speaker_one}).wav")
            write_wav(top / folder / f"{letter}{utt} (2).wav")
    write_wav(top / "fear" / "f02 (2)b.wav")  # a second qualified take
    write_wav(top / "anger" / "x01 (1).wav")  # unknown emotion letter
    write_wav(top / "anger" / "a01.wav")  # no speaker: not in the format
    return root


# -- CaFE: <Émotion>/<Fort|Faible>/AA-E-I-S.wav (48k) or .aiff (192k); neutral AA-N-1-S / AA-N-S -------------
CAFE_FOLDERS = {"C": "Colère", "D": "Dégoût", "J": "Joie", "P": "Peur", "S": "Surprise", "T": "Tristesse"}
CAFE_LEVELS = {"1": "Faible", "2": "Fort"}


def make_cafe(root: Path) -> Path:
    """Actors 01-02 as the 48k WAV release, 03 as the 192k AIFF one: 3 x (6 x 2 x 2 + 2) = 78 files."""
    for actor in ("01", "02", "03"):
        hi_res = actor == "03"
        top, ext = root / ("CaFE_192k_1" if hi_res else "CaFE_48k"), ".aiff" if hi_res else ".wav"
        for code, folder in CAFE_FOLDERS.items():
            if actor == "02" and code == "C":
                folder = "ColŠre"  # how the zip's code page spells Colère once extracted
            for level, level_dir in CAFE_LEVELS.items():
                for sentence in ("1", "2"):
                    write_wav(top / folder / level_dir / f"{actor}-{code}-{level}-{sentence}{ext}")
        for sentence in ("1", "2"):
            name = f"{actor}-N-{sentence}" if hi_res else f"{actor}-N-1-{sentence}"
            write_wav(top / "Neutre" / f"{name}{ext}")
    write_wav(root / "CaFE_48k" / "Neutre" / "01-X-1-1.wav")  # unknown emotion letter
    write_wav(root / "CaFE_48k" / "Colère" / "Fort" / "01-C-3.wav")  # emotional file without intensity
    return root


# -- DEMoS: DEMOS/{NP,PR}_g_SS_eeeNNx.wav and NEU/g_SS_neuNNx.wav --------------------------------------------
DEMOS_EMOTIONS = ("col", "dis", "gio", "pau", "rab", "sor", "tri")
DEMOS_SPEAKERS = {"02": "m", "23": "m", "61": "f"}


def make_demos(root: Path) -> Path:
    """3 speakers x (7 emotions x {PR, NP} + 1 neutral) = 45 files (+ 3 skipped)."""
    top = root / "DEMoS"
    for speaker, g in DEMOS_SPEAKERS.items():
        for emo in DEMOS_EMOTIONS:
            write_wav(top / "DEMOS" / f"PR_{g}_{speaker}_{emo}00a.wav")
            write_wav(top / "DEMOS" / f"NP_{g}_{speaker}_{emo}01b.wav")
        write_wav(top / "NEU" / f"{g}_{speaker}_neu00a.wav")
    write_wav(top / "DEMOS" / "PR_m_02_xyz00a.wav")  # unknown emotion code
    write_wav(top / "NEU" / "PR_m_02_neu01a.wav")  # neutral files carry no NP/PR prefix
    write_wav(top / "DEMOS" / "PR_m_2_rab00a.wav")  # one-digit speaker: not in the format
    return root


# -- EmoMatchSpanishDB: SS_Emocion_NN.wav --------------------------------------------------------------------
EMOMATCH_WORDS = ("Ira", "Asco", "Miedo", "Alegria", "Neutro", "Tristeza", "Sorpresa")


def make_emomatch(root: Path) -> Path:
    """3 speakers x 7 emotions x 2 sentences + 1 accented spelling = 43 files (+ 2 skipped)."""
    for speaker in ("01", "03", "12"):
        for word in EMOMATCH_WORDS:
            for sentence in ("01", "02"):
                ext = ".WAV" if (speaker, word, sentence) == ("03", "Alegria", "02") else ".wav"
                write_wav(root / f"{speaker}_{word}_{sentence}{ext}")
    write_wav(root / "12_Alegría_03.wav")  # accented spelling of the same emotion word
    write_wav(root / "01_Enfado_01.wav")  # unknown emotion word
    write_wav(root / "01-Ira-01.wav")  # not in the format
    return root


# -- EMOVO: <actor>/emo-actor-sentence.wav ------------------------------------------------------------------
EMOVO_EMOTIONS = ("dis", "gio", "neu", "pau", "rab", "sor", "tri")


def make_emovo(root: Path) -> Path:
    """Actors f1, m2 x 7 emotions x 3 sentences = 42 files (+ 2 skipped)."""
    for actor in ("f1", "m2"):
        for emo in EMOVO_EMOTIONS:
            for sentence in ("b1", "l2", "n3"):
                write_wav(root / "EMOVO" / actor / f"{emo}-{actor}-{sentence}.wav")
    write_wav(root / "EMOVO" / "f1" / "ans-f1-b1.wav")  # unknown emotion code
    write_wav(root / "EMOVO" / "f1" / "dis_f1_b1.wav")  # not in the format
    return root


# -- EYASE: ssNN_emo (K).wav ---------------------------------------------------------------------------------
def make_eyase(root: Path) -> Path:
    """2 speakers x 4 emotions x 3 numbered files + 1 unnumbered = 25 files (+ 2 skipped)."""
    for speaker in ("fm01", "ml02"):
        for emo in ("ang", "hap", "neu", "sad"):
            for k in (1, 2, 3):
                write_wav(root / "EYASE" / f"{speaker}_{emo} ({k}).wav")
    write_wav(root / "EYASE" / "ml02_sad.wav")  # no running number
    write_wav(root / "EYASE" / "fm01_fea (1).wav")  # unknown emotion code
    write_wav(root / "EYASE" / "fm01 hap (4).wav")  # not in the format
    return root


# -- Oréau: OréauFR_0V/{m,f}/sess<e>/SSUUUEV.wav -------------------------------------------------------------
OREAU_LETTERS = "CDJNPST"
OREAU_SPEAKERS = {"07": "m", "10": "f", "11": "f"}


def make_oreau(root: Path) -> Path:
    """Version 01: 3 speakers x 7 emotions + 1 ``z03`` utterance = 22 files (+ 2 skipped);
    version 02 (its folder name decomposed, as macOS zips store it): 3 files."""
    v1 = root / "OréauFR_01"
    v2 = root / unicodedata.normalize("NFD", "OréauFR_02")
    for speaker, g in OREAU_SPEAKERS.items():
        for e in OREAU_LETTERS:
            write_wav(v1 / g / f"sess{e.lower()}" / f"{speaker}a01{e}a.wav")
    write_wav(v1 / "m" / "sesss" / "07z03Sa.wav")
    write_wav(v1 / "m" / "sessc" / "07a02Xa.wav")  # unknown emotion letter
    write_wav(v1 / "m" / "sessc" / "7a02Ca.wav")  # not in the format
    for e in "CJT":
        write_wav(v2 / "f" / f"sess{e.lower()}" / f"10a01{e}a.wav")
    (v1 / "contents.txt").write_text("Je n'ai validé aucune matière.\n")
    return root


# -- ShEMO: {female,male}/GSSENN.wav -------------------------------------------------------------------------
def make_shemo(root: Path) -> Path:
    """Speakers F01, F02, M01 x 6 emotions x 2 = 36 files (+ 2 skipped)."""
    for speaker in ("F01", "F02", "M01"):
        folder = "female" if speaker[0] == "F" else "male"
        for e in "AFHNSW":
            for n in ("01", "02"):
                write_wav(root / folder / f"{speaker}{e}{n}.wav")
    write_wav(root / "male" / "M01X01.wav")  # unknown emotion letter
    write_wav(root / "male" / "M1A01.wav")  # not in the format
    return root


def make_trees(root: Path) -> tuple[Path, Path]:
    """Small EMOVO and ShEMO trees (6 speakers each, 3 clips per emotion) for end-to-end CLI runs."""
    for actor in ("f1", "f2", "f3", "m1", "m2", "m3"):  # EMOVO: <actor>/emo-actor-sentence.wav
        for emo in EMOVO_EMOTIONS:
            for sentence in ("b1", "l2", "n3"):
                write_wav(root / "emovo" / "EMOVO" / actor / f"{emo}-{actor}-{sentence}.wav")
    for speaker in ("F01", "F02", "F03", "M01", "M02", "M03"):  # ShEMO: {female,male}/GSSENN.wav
        for e in "AFHNSW":
            for n in ("01", "02", "03"):
                write_wav(root / "shemo" / ("female" if speaker[0] == "F" else "male") / f"{speaker}{e}{n}.wav")
    return root / "emovo", root / "shemo"
