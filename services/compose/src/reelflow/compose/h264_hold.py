"""Holding encoded pictures on screen in H.264 at no cost: "skip" P-frames written directly, not encoded.

A still-slide lesson shows a few dozen distinct pictures (a slide with its current caption) for thousands of
frames. x264 encodes each distinct picture once, as an IDR frame; every further frame of its hold is a P-frame
whose macroblocks are all skipped, which a decoder reads as "repeat the previous frame exactly". Such a frame
is a handful of bytes that depend only on the stream's parameter sets and its ``frame_num``, so they are
written here (ITU-T H.264 §7.3.3 and §7.3.4) instead of making an encoder analyse thousands of identical
frames, which costs it as much as new ones.

Only what x264 produces for :func:`reelflow.compose.ffmpeg.still_pictures_args` is supported (progressive,
CAVLC, a single slice group, picture order count type 2); anything else is refused, never guessed at.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

START_CODE = b"\x00\x00\x00\x01"
NAL_SLICE = 1
NAL_IDR_SLICE = 5
NAL_SPS = 7
NAL_PPS = 8
# nal_ref_idc of the skip frames: each one becomes the reference of the next, so it must be kept.
SKIP_FRAME_REF_IDC = 2
SLICE_TYPE_P_ONLY = 5  # "P, and every slice of this picture is P"
DEBLOCKING_OFF = 1  # skipped macroblocks have no edges to filter; saying so spares the decoder the pass
# A slice header's first fields (first_mb_in_slice, slice_type, pic_parameter_set_id) lie within its first bytes.
_SLICE_HEAD_BYTES = 16
# profile_idc values whose SPS carries chroma format, bit depths and scaling matrices (§7.3.2.1.1).
_PROFILES_WITH_CHROMA_INFO = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


class UnsupportedStreamError(ValueError):
    """The encoded pictures use an H.264 feature that skip frames are not written for here."""


@dataclass(frozen=True)
class SequenceFacts:
    """What a skip frame's slice header depends on, from the sequence parameter set."""

    log2_max_frame_num: int
    max_num_ref_frames: int
    width_in_mbs: int
    height_in_mbs: int

    @property
    def macroblocks(self) -> int:
        return self.width_in_mbs * self.height_in_mbs

    @property
    def max_frame_num(self) -> int:
        return 1 << self.log2_max_frame_num


@dataclass(frozen=True)
class PictureFacts:
    """What a skip frame's slice header depends on, from the picture parameter set."""

    pps_id: int
    num_ref_idx_l0_default: int
    weighted_pred: bool
    deblocking_filter_control: bool


class BitReader:
    """Reads an RBSP (emulation prevention already removed) bit by bit, big-endian."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            index = self._position >> 3
            if index >= len(self._data):
                raise UnsupportedStreamError("a parameter set ended before its fields did")
            value = (value << 1) | ((self._data[index] >> (7 - (self._position & 7))) & 1)
            self._position += 1
        return value

    def flag(self) -> bool:
        return self.bits(1) == 1

    def unsigned(self) -> int:
        """``ue(v)``: unsigned Exp-Golomb."""
        zeros = 0
        while self.bits(1) == 0:
            zeros += 1
            if zeros > 31:
                raise UnsupportedStreamError("an Exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.bits(zeros)

    def signed(self) -> int:
        """``se(v)``: signed Exp-Golomb."""
        code = self.unsigned()
        return (code + 1) // 2 if code % 2 else -(code // 2)


class BitWriter:
    """Builds an RBSP bit by bit, big-endian."""

    def __init__(self) -> None:
        self._bits: list[int] = []

    def bits(self, count: int, value: int) -> None:
        if value < 0 or value >= 1 << count:
            raise ValueError(f"{value} does not fit in {count} bits")
        self._bits.extend((value >> shift) & 1 for shift in range(count - 1, -1, -1))

    def flag(self, value: bool) -> None:
        self._bits.append(int(value))

    def unsigned(self, value: int) -> None:
        code = value + 1
        self.bits(code.bit_length() - 1, 0)
        self.bits(code.bit_length(), code)

    def signed(self, value: int) -> None:
        self.unsigned(2 * value - 1 if value > 0 else -2 * value)

    def rbsp(self) -> bytes:
        """The bits so far with ``rbsp_trailing_bits`` (a stop bit, then zeros to the byte boundary)."""
        bits = [*self._bits, 1]
        bits += [0] * (-len(bits) % 8)
        return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))


def nal_units(stream: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream, without their start codes."""
    starts: list[int] = []
    found = stream.find(b"\x00\x00\x01")
    while found >= 0:
        starts.append(found + 3)
        found = stream.find(b"\x00\x00\x01", found + 3)
    units = []
    for index, start in enumerate(starts):
        end = starts[index + 1] - 3 if index + 1 < len(starts) else len(stream)
        # Zero bytes before the next start code belong to it (a 4-byte start code or trailing_zero_8bits);
        # a NAL unit itself never ends in a zero byte.
        units.append(stream[start:end].rstrip(b"\x00"))
    return [unit for unit in units if unit]


def nal_type(unit: bytes) -> int:
    return unit[0] & 0x1F


def rbsp_of(unit: bytes) -> bytes:
    """A NAL unit's payload with the header byte and every emulation prevention byte (``00 00 03``) removed."""
    payload = bytearray()
    zeros = 0
    for byte in unit[1:]:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        payload.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(payload)


def nal_unit(ref_idc: int, unit_type: int, rbsp: bytes) -> bytes:
    """A NAL unit from its header fields and payload, with emulation prevention bytes inserted."""
    escaped = bytearray([(ref_idc << 5) | unit_type])
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            escaped.append(3)
            zeros = 0
        escaped.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(escaped)


def _skip_scaling_list(reader: BitReader, size: int) -> None:
    last, following = 8, 8
    for _ in range(size):
        if following != 0:
            following = (last + reader.signed() + 256) % 256
        last = following or last


def parse_sps(unit: bytes) -> SequenceFacts:
    """The fields of a sequence parameter set (§7.3.2.1.1) that a skip frame needs."""
    reader = BitReader(rbsp_of(unit))
    profile = reader.bits(8)
    reader.bits(16)  # constraint flags, level_idc
    reader.unsigned()  # seq_parameter_set_id
    if profile in _PROFILES_WITH_CHROMA_INFO:
        chroma_format = reader.unsigned()
        if chroma_format == 3 and reader.flag():
            raise UnsupportedStreamError("separate colour planes")
        reader.unsigned()  # bit_depth_luma_minus8
        reader.unsigned()  # bit_depth_chroma_minus8
        reader.flag()  # qpprime_y_zero_transform_bypass_flag
        if reader.flag():  # seq_scaling_matrix_present_flag
            for index in range(12 if chroma_format == 3 else 8):
                if reader.flag():
                    _skip_scaling_list(reader, 16 if index < 6 else 64)
    log2_max_frame_num = reader.unsigned() + 4
    if (order_type := reader.unsigned()) != 2:
        raise UnsupportedStreamError(f"picture order count type {order_type} (B-frames?); type 2 is needed")
    max_num_ref_frames = reader.unsigned()
    if reader.flag():
        raise UnsupportedStreamError("gaps in frame_num")
    width_in_mbs = reader.unsigned() + 1
    height_in_map_units = reader.unsigned() + 1
    if not reader.flag():
        raise UnsupportedStreamError("interlaced coding (frame_mbs_only_flag is 0)")
    if max_num_ref_frames < 1:
        raise UnsupportedStreamError("no reference frames (an intra-only stream); a skip frame needs one")
    return SequenceFacts(
        log2_max_frame_num=log2_max_frame_num,
        max_num_ref_frames=max_num_ref_frames,
        width_in_mbs=width_in_mbs,
        height_in_mbs=height_in_map_units,
    )


def parse_pps(unit: bytes) -> PictureFacts:
    """The fields of a picture parameter set (§7.3.2.2) that a skip frame needs."""
    reader = BitReader(rbsp_of(unit))
    pps_id = reader.unsigned()
    reader.unsigned()  # seq_parameter_set_id
    if reader.flag():
        raise UnsupportedStreamError("CABAC entropy coding; the skip frames are written in CAVLC")
    if reader.flag():
        raise UnsupportedStreamError("field picture order (bottom_field_pic_order_in_frame_present_flag)")
    if reader.unsigned() != 0:
        raise UnsupportedStreamError("slice groups")
    num_ref_idx_l0_default = reader.unsigned() + 1
    reader.unsigned()  # num_ref_idx_l1_default_active_minus1
    weighted_pred = reader.flag()
    reader.bits(2)  # weighted_bipred_idc
    reader.signed()  # pic_init_qp_minus26
    reader.signed()  # pic_init_qs_minus26
    reader.signed()  # chroma_qp_index_offset
    deblocking_filter_control = reader.flag()
    reader.flag()  # constrained_intra_pred_flag
    if reader.flag():
        raise UnsupportedStreamError("redundant pictures")
    return PictureFacts(
        pps_id=pps_id,
        num_ref_idx_l0_default=num_ref_idx_l0_default,
        weighted_pred=weighted_pred,
        deblocking_filter_control=deblocking_filter_control,
    )


def skip_frame(sequence: SequenceFacts, picture: PictureFacts, frame_num: int) -> bytes:
    """One P-frame, a single slice, in which every macroblock is skipped: it repeats the frame before it.

    A skipped macroblock in a P slice is predicted from reference 0 with the motion vector of its neighbours;
    when they are all skipped that vector is zero, so the whole picture is an exact copy of the last one.
    ``frame_num`` counts the reference frames since the IDR (modulo ``max_frame_num``).
    """
    header = BitWriter()
    header.unsigned(0)  # first_mb_in_slice
    header.unsigned(SLICE_TYPE_P_ONLY)
    header.unsigned(picture.pps_id)
    header.bits(sequence.log2_max_frame_num, frame_num % sequence.max_frame_num)
    # picture order count type 2: the order follows frame_num, so no picture order fields
    override = picture.num_ref_idx_l0_default != 1
    header.flag(override)  # num_ref_idx_active_override_flag: one reference is all a skip needs
    if override:
        header.unsigned(0)  # num_ref_idx_l0_active_minus1
    header.flag(False)  # ref_pic_list_modification_flag_l0
    if picture.weighted_pred:
        header.unsigned(0)  # luma_log2_weight_denom
        header.unsigned(0)  # chroma_log2_weight_denom
        header.flag(False)  # luma_weight_l0_flag: default weights
        header.flag(False)  # chroma_weight_l0_flag
    header.flag(False)  # adaptive_ref_pic_marking_mode_flag: the sliding window keeps the newest frame
    header.signed(0)  # slice_qp_delta: no residual is coded, so the quantiser does not matter
    if picture.deblocking_filter_control:
        header.unsigned(DEBLOCKING_OFF)
    header.unsigned(sequence.macroblocks)  # slice_data: mb_skip_run over the whole picture
    return nal_unit(SKIP_FRAME_REF_IDC, NAL_SLICE, header.rbsp())


def _access_units(units: Sequence[bytes]) -> Iterator[list[bytes]]:
    """Group NAL units into pictures: each picture's slices with the parameter sets and SEI before them."""
    pending: list[bytes] = []
    current: list[bytes] = []
    for unit in units:
        kind = nal_type(unit)
        if kind in (NAL_SLICE, NAL_IDR_SLICE):
            # first_mb_in_slice opens the slice header; unescaping a whole slice to read it would cost its size.
            first_mb = BitReader(rbsp_of(unit[:_SLICE_HEAD_BYTES])).unsigned()
            if first_mb == 0 and current:
                yield current
                current = []
            current += [*pending, unit]
            pending = []
        else:
            pending.append(unit)
    if current:
        yield [*current, *pending]


@dataclass(frozen=True)
class EncodedShot:
    """A moving shot encoded on its own (``ffmpeg.spliced_shot_args``): ``frames`` pictures of raw H.264 starting on
    an IDR frame, with the same parameter sets as the held pictures."""

    stream: bytes
    frames: int


def spliced_stream(encoded: bytes, pieces: Sequence[int | EncodedShot]) -> bytes:
    """The held pictures of ``encoded`` (an ``int`` piece: the next picture, held that many frames) with moving
    shots (an :class:`EncodedShot` piece, copied as it is) between them, in the order of ``pieces``.

    ``encoded`` holds exactly one IDR frame per picture, in order (as :func:`reelflow.compose.ffmpeg.
    still_pictures_args` writes it); each is followed by its piece's count less one skip frames. Raises
    :class:`UnsupportedStreamError` when the stream is not such a stream.

    Each shot starts on an IDR frame, as every held picture does, so neither refers to the other; the shots must
    carry the very parameter sets the pictures do, so the one stream has one set (and the MP4 one ``avcC``).
    """
    held = [piece for piece in pieces if isinstance(piece, int)]
    if any(count < 1 for count in held):
        raise ValueError(f"every picture needs at least one frame, got {held}")
    pictures = list(_access_units(nal_units(encoded)))
    if len(pictures) != len(held):
        raise UnsupportedStreamError(f"expected {len(held)} encoded pictures, found {len(pictures)}")
    sequence: SequenceFacts | None = None
    picture_sets: dict[int, PictureFacts] = {}
    parameter_sets = {unit for units in pictures for unit in units if nal_type(unit) in (NAL_SPS, NAL_PPS)}
    out = bytearray()
    next_picture = iter(pictures)
    for piece in pieces:
        if isinstance(piece, EncodedShot):
            out += _checked_shot(piece, parameter_sets)
            continue
        units = next(next_picture)
        for unit in units:
            kind = nal_type(unit)
            if kind == NAL_SPS:
                sequence = parse_sps(unit)
            elif kind == NAL_PPS:
                facts = parse_pps(unit)
                picture_sets[facts.pps_id] = facts
            elif kind == NAL_SLICE:
                raise UnsupportedStreamError("a picture that is not an IDR frame")
            out += START_CODE + unit
        slice_unit = next(unit for unit in units if nal_type(unit) == NAL_IDR_SLICE)
        reader = BitReader(rbsp_of(slice_unit[:_SLICE_HEAD_BYTES]))
        reader.unsigned()  # first_mb_in_slice
        reader.unsigned()  # slice_type
        pps_id = reader.unsigned()
        if sequence is None or pps_id not in picture_sets:
            raise UnsupportedStreamError("a picture before its parameter sets")
        for frame_num in range(1, piece):
            out += START_CODE + skip_frame(sequence, picture_sets[pps_id], frame_num)
    return bytes(out)


def _checked_shot(shot: EncodedShot, parameter_sets: set[bytes]) -> bytes:
    """The shot's stream, once it is known to be ``shot.frames`` pictures that open on an IDR frame and carry the
    ``parameter_sets`` of the rest of the stream (the first shot of a stream with no pictures sets them)."""
    units = nal_units(shot.stream)
    pictures = list(_access_units(units))
    if len(pictures) != shot.frames:
        raise UnsupportedStreamError(f"a moving shot of {shot.frames} frames has {len(pictures)} encoded pictures")
    if not any(nal_type(unit) == NAL_IDR_SLICE for unit in pictures[0]):
        raise UnsupportedStreamError("a moving shot that does not open on an IDR frame")
    own = {unit for unit in units if nal_type(unit) in (NAL_SPS, NAL_PPS)}
    if not parameter_sets:
        parameter_sets.update(own)
    if not own <= parameter_sets:
        raise UnsupportedStreamError("a moving shot whose parameter sets differ from the held pictures'")
    return b"".join(START_CODE + unit for unit in units)
