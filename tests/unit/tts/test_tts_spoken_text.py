"""spoken_form: what the voice is given for Korean and English narration, rule by rule, with exact outputs."""

import random
import time

import pytest

from reelflow.tts.spoken_text import spoken_form

Case = tuple[str, str]


def assert_spoken(language: str, written: str, spoken: str) -> None:
    assert spoken_form(written, language) == spoken


# ---- numbers ---------------------------------------------------------------------------------------------------

KOREAN_NUMBERS: list[Case] = [
    ("1,500", "천오백"),
    ("1500", "천오백"),
    ("10000", "만"),
    ("15,000명", "만 오천명"),
    ("3.5", "삼 점 오"),
    ("0.25", "영 점 이오"),
    ("-3", "마이너스 삼"),
    ("1만 5천 원", "만 오천 원"),
    ("3억", "삼억"),
    ("007", "공공칠"),
    ("제3장", "제삼장"),
    ("1위", "일위"),
    ("3~5", "삼에서 오"),
    ("v1.2.3과 192.168.0.1", "v1.2.3과 백구십이 점 백육십팔 점 영 점 일"),
]
KOREAN_COUNTERS: list[Case] = [
    ("사과 3개", "사과 세개"),
    ("3 개", "세 개"),
    ("1명", "한명"),
    ("20살", "스무살"),
    ("21살", "스물한살"),
    ("24시간", "스물네시간"),
    ("2마리", "두마리"),
    ("1번째", "첫번째"),
    ("100명", "백명"),  # past 99 people say the Sino-Korean number
    ("3개월", "삼개월"),  # 개월 is not the counter 개
    ("3달러", "삼달러"),
    ("일주일에 3번 운동합니다", "일주일에 세번 운동합니다"),
    ("2번씩 누르세요", "두번씩 누르세요"),
    ("3번 출구", "삼번 출구"),  # 번 naming an item stays Sino-Korean
    ("3~5개", "삼에서 다섯개"),
]
KOREAN_DIALLED: list[Case] = [
    ("119에 전화하세요.", "일일구에 전화하세요."),
    ("112로 신고하세요", "일일이로 신고하세요"),
    ("긴급 번호는 119.", "긴급 번호는 일일구."),
    ("119 구급대", "일일구 구급대"),
    ("1339에 문의하세요", "일삼삼구에 문의하세요"),
    ("114", "일일사"),
    ("1234번으로 연락하세요", "일이삼사번으로 연락하세요"),  # any number someone is told to call
    ("119명이 다쳤습니다", "백십구명이 다쳤습니다"),  # a counter makes it a quantity
    ("119.5", "백십구 점 오"),
    ("010-1234-5678", "공일공, 일이삼사, 오육칠팔"),
    ("02-123-4567", "공이, 일이삼, 사오육칠"),
    ("(02) 123-4567", "공이, 일이삼, 사오육칠"),
    ("1588-1234", "일오팔팔, 일이삼사"),
    ("+82 10-1234-5678", "플러스 팔이, 일공, 일이삼사, 오육칠팔"),
]
ENGLISH_NUMBERS: list[Case] = [
    ("1,500", "one thousand five hundred"),
    ("It has 101 pages.", "It has one hundred one pages."),
    ("3.5", "three point five"),
    ("0.25", "zero point two five"),
    ("-3 degrees", "minus three degrees"),
    ("007", "zero zero seven"),
    ("1.5 million", "one point five million"),
    ("pages 10-20", "pages ten to twenty"),
    ("version 1.2.3", "version one point two point three"),
    ("COVID-19 and MP3", "COVID-nineteen and MP3"),  # digits glued to letters are left to the voice
    ("No. 5 and #3", "number five and number three"),
]
ENGLISH_ORDINALS_AND_YEARS: list[Case] = [
    ("1st, 2nd, 3rd, 4th, 21st, 100th", "first, second, third, fourth, twenty-first, one hundredth"),
    ("in 1999", "in nineteen ninety-nine"),
    ("in 2026", "in twenty twenty-six"),
    ("in 2005", "in two thousand five"),
    ("in 1905", "in nineteen oh-five"),
    ("the 1990s and the '80s", "the nineteen nineties and the eighties"),
    ("in the 80s", "in the eighties"),
    ("wait 30s", "wait 30s"),  # thirty seconds or the thirties: left to the voice
    ("2020-2021", "twenty twenty to twenty twenty-one"),
]
ENGLISH_DIALLED: list[Case] = [
    ("Call 911 now.", "Call nine one one now."),
    ("In Europe, 112 works everywhere.", "In Europe, one one two works everywhere."),
    ("999", "nine nine nine"),
    ("Dial 119 for an ambulance.", "Dial one one nine for an ambulance."),
    ("call the 1339 hotline", "call the one three three nine hotline"),
    ("119 people came", "one hundred nineteen people came"),
    ("911 calls a day", "nine hundred eleven calls a day"),
    ("112 kg", "one hundred twelve kilograms"),
    ("555-123-4567", "five five five, one two three, four five six seven"),
    ("(555) 123-4567", "five five five, one two three, four five six seven"),
    ("+1 555-123-4567", "plus one, five five five, one two three, four five six seven"),
]


@pytest.mark.parametrize(("written", "spoken"), KOREAN_NUMBERS)
def test_korean_quantities_are_sino_korean(written: str, spoken: str) -> None:
    assert_spoken("ko", written, spoken)


@pytest.mark.parametrize(("written", "spoken"), KOREAN_COUNTERS)
def test_korean_native_counters_take_native_numbers_up_to_99(written: str, spoken: str) -> None:
    assert_spoken("ko", written, spoken)


@pytest.mark.parametrize(("written", "spoken"), KOREAN_DIALLED)
def test_korean_emergency_service_and_phone_numbers_are_read_digit_by_digit(written: str, spoken: str) -> None:
    assert_spoken("ko", written, spoken)


@pytest.mark.parametrize(("written", "spoken"), ENGLISH_NUMBERS)
def test_english_numbers_are_cardinal_words_without_pausing_commas(written: str, spoken: str) -> None:
    assert_spoken("en", written, spoken)


@pytest.mark.parametrize(("written", "spoken"), ENGLISH_ORDINALS_AND_YEARS)
def test_english_ordinals_years_and_decades(written: str, spoken: str) -> None:
    assert_spoken("en", written, spoken)


@pytest.mark.parametrize(("written", "spoken"), ENGLISH_DIALLED)
def test_english_emergency_and_phone_numbers_are_read_digit_by_digit(written: str, spoken: str) -> None:
    assert_spoken("en", written, spoken)


def test_british_english_keeps_its_and_and_reads_dates_day_first() -> None:
    assert spoken_form("101", "en-GB") == "one hundred and one"
    assert spoken_form("101", "en-US") == "one hundred one"
    assert spoken_form("on 01/02/2026", "en-GB") == "on February first, twenty twenty-six"
    assert spoken_form("on 01/02/2026", "en-US") == "on January second, twenty twenty-six"


# ---- dates and times -------------------------------------------------------------------------------------------

KOREAN_DATES_AND_TIMES: list[Case] = [
    ("2026-11-29", "이천이십육년 십일월 이십구일"),
    ("2026.11.29", "이천이십육년 십일월 이십구일"),
    ("2026. 11. 29.", "이천이십육년 십일월 이십구일."),
    ("2026/11/29", "이천이십육년 십일월 이십구일"),
    ("2026년 11월 29일", "이천이십육년 십일월 이십구일"),
    ("6월과 10월", "유월과 시월"),
    ("2026-13-45", "이천이십육-십삼-사십오"),  # not a date: its numbers are read, its dashes left to the voice
    ("14:30", "오후 두 시 삼십 분"),
    ("09:05", "오전 아홉 시 오 분"),
    ("9:00", "아홉 시"),
    ("오후 2:30", "오후 두 시 삼십 분"),
    ("2:30 PM", "오후 두 시 삼십 분"),
    ("오후 2시 30분", "오후 두시 삼십분"),
    ("14시", "십사시"),  # past twelve the 24-hour clock is Sino-Korean
    ("0:15", "오전 열두 시 십오 분"),
]
ENGLISH_DATES_AND_TIMES: list[Case] = [
    ("2026-11-29", "November twenty-ninth, twenty twenty-six"),
    ("2026.11.29", "November twenty-ninth, twenty twenty-six"),
    ("Nov 29, 2026", "November twenty-ninth, twenty twenty-six"),
    ("November 29th", "November twenty-ninth"),
    ("29 November 2026", "the twenty-ninth of November twenty twenty-six"),
    ("on 11/29/2026", "on November twenty-ninth, twenty twenty-six"),
    ("at 14:30", "at two thirty PM"),
    ("at 2:30 PM.", "at two thirty PM."),
    ("at 9:00", "at nine o'clock"),
    ("at 09:05", "at nine oh five AM"),
    ("at 3 p.m. Then rest.", "at three PM. Then rest."),
    ("at 7am", "at seven AM"),
    ("00:00", "twelve AM"),
]


@pytest.mark.parametrize(("written", "spoken"), KOREAN_DATES_AND_TIMES)
def test_korean_dates_and_times(written: str, spoken: str) -> None:
    assert_spoken("ko", written, spoken)


@pytest.mark.parametrize(("written", "spoken"), ENGLISH_DATES_AND_TIMES)
def test_english_dates_and_times(written: str, spoken: str) -> None:
    assert_spoken("en", written, spoken)


# ---- percentages, units and money ------------------------------------------------------------------------------

KOREAN_MEASURES: list[Case] = [
    ("30%", "삼십 퍼센트"),
    ("3.5%", "삼 점 오 퍼센트"),
    ("2%p", "이 퍼센트포인트"),
    ("5kg", "오 킬로그램"),
    ("500 g", "오백 그램"),
    ("10km", "십 킬로미터"),
    ("3m", "삼 미터"),
    ("15cm", "십오 센티미터"),
    ("2mm", "이 밀리미터"),
    ("1.5L", "일 점 오 리터"),
    ("200ml", "이백 밀리리터"),
    ("36.5°C", "섭씨 삼십육 점 오 도"),
    ("-5℃", "섭씨 영하 오 도"),
    ("60km/h", "시속 육십 킬로미터"),
    ("5kg을 드세요", "오 킬로그램을 드세요"),
    ("₩15,000", "만 오천 원"),
    ("15,000원", "만 오천원"),
    ("$20", "이십 달러"),
    ("$3.50", "삼 달러 오십 센트"),
    ("€5", "오 유로"),
]
ENGLISH_MEASURES: list[Case] = [
    ("30%", "thirty percent"),
    ("3.5%", "three point five percent"),
    ("2%p", "two percentage points"),
    ("1 kg", "one kilogram"),
    ("5kg", "five kilograms"),
    ("500 g", "five hundred grams"),
    ("1 km", "one kilometer"),
    ("3 m", "three meters"),
    ("15 cm", "fifteen centimeters"),
    ("2 mm", "two millimeters"),
    ("1.5 L", "one point five liters"),
    ("200 ml", "two hundred milliliters"),
    ("36.5°C", "thirty-six point five degrees Celsius"),
    ("-5°C", "minus five degrees Celsius"),
    ("60 km/h", "sixty kilometers per hour"),
    ("30 min", "thirty minutes"),
    ("$1", "one dollar"),
    ("$1,500", "one thousand five hundred dollars"),
    ("$3.50", "three dollars and fifty cents"),
    ("$1.5 million", "one point five million dollars"),
    ("$10k", "ten thousand dollars"),
    ("₩15,000", "fifteen thousand won"),
    ("£2.01", "two pounds and one penny"),
]


@pytest.mark.parametrize(("written", "spoken"), KOREAN_MEASURES)
def test_korean_percentages_units_and_money(written: str, spoken: str) -> None:
    assert_spoken("ko", written, spoken)


@pytest.mark.parametrize(("written", "spoken"), ENGLISH_MEASURES)
def test_english_percentages_units_and_money(written: str, spoken: str) -> None:
    assert_spoken("en", written, spoken)


# ---- abbreviations and web addresses ---------------------------------------------------------------------------

KOREAN_ABBREVIATIONS_AND_ADDRESSES: list[Case] = [
    ("사과, 배 등", "사과, 배 등"),
    ("e.g. 사과", "예를 들어 사과"),
    ("i.e. 사과", "즉 사과"),
    ("사과, 배 etc.", "사과, 배 등."),
    ("한국 vs 일본", "한국 대 일본"),
    ("(주)리플로", "주식회사리플로"),
    ("https://www.example.co.kr/help 에서", "example 점 co 점 kr 슬래시 help 에서"),
    ("example.com에 접속하세요.", "example 점 com에 접속하세요."),
    ("help@example.com으로 보내세요", "help 앳 example 점 com으로 보내세요"),
]
ENGLISH_ABBREVIATIONS_AND_ADDRESSES: list[Case] = [
    ("e.g., apples, pears, etc.", "for example, apples, pears, et cetera."),
    ("E.g. this", "For example this"),
    ("i.e. that", "that is that"),
    ("apples etc. and pears", "apples et cetera and pears"),
    ("Dr. Kim vs. Mr. Lee", "Doctor Kim versus Mister Lee"),
    ("Mrs. Park and Ms. Choi", "Missus Park and Miz Choi"),
    ("It took 5 ms.", "It took five milliseconds."),
    ("Smith Ltd. They", "Smith Limited. They"),
    ("Q&A", "Q and A"),
    ("Visit https://www.example.com/help.", "Visit example dot com slash help."),
    ("See docs.example.org/getting-started", "See docs dot example dot org slash getting dash started"),
    ("https://example.com/a?b=1#c", "example dot com slash a"),
    ("Email help@example.com.", "Email help at example dot com."),
    ("first_name@my-site.io", "first underscore name at my dash site dot io"),
]


@pytest.mark.parametrize(("written", "spoken"), KOREAN_ABBREVIATIONS_AND_ADDRESSES)
def test_korean_abbreviations_and_web_addresses(written: str, spoken: str) -> None:
    assert_spoken("ko", written, spoken)


@pytest.mark.parametrize(("written", "spoken"), ENGLISH_ABBREVIATIONS_AND_ADDRESSES)
def test_english_abbreviations_and_web_addresses(written: str, spoken: str) -> None:
    assert_spoken("en", written, spoken)


# ---- the lexicon -----------------------------------------------------------------------------------------------


def test_the_lexicon_wins_over_the_rules_and_is_not_read_again() -> None:
    lexicon = {"COVID-19": "코로나 일구", "SQL": "시퀄", "3M": "쓰리엠", "A4": "에이포 4"}
    assert spoken_form("COVID-19와 3M, SQL은 19개", "ko", lexicon) == "코로나 일구와 쓰리엠, 시퀄은 열아홉개"
    assert spoken_form("A4 용지", "ko", lexicon) == "에이포 4 용지"  # its digits stay as the lexicon wrote them


def test_the_lexicon_matches_whole_words_case_insensitively() -> None:
    lexicon = {"sql": "sequel", "reelflow": "reel flow", "Node.js": "node J S"}
    assert spoken_form("SQL, Sql and sql.", "en", lexicon) == "sequel, sequel and sequel."
    assert spoken_form("SQLite and MySQL", "en", lexicon) == "SQLite and MySQL"
    assert spoken_form("reelflow's 2 videos", "en", lexicon) == "reel flow's two videos"
    assert spoken_form("Use Node.js 20.", "en", lexicon) == "Use node J S twenty."


def test_the_longest_lexicon_word_wins_and_blank_words_are_ignored() -> None:
    lexicon = {"New York": "뉴욕", "New York City": "뉴욕 시티", "  ": "nothing"}
    assert spoken_form("New York City, New York", "ko", lexicon) == "뉴욕 시티, 뉴욕"


def test_other_languages_get_the_lexicon_alone() -> None:
    assert spoken_form("Rufen Sie 112 an, Dr. Weber", "de", {"Weber": "Vayber"}) == "Rufen Sie 112 an, Dr. Vayber"


# ---- odd input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "written", "spoken"),
    [
        ("ko", "", ""),
        ("en", "", ""),
        ("ko", "   ", "   "),
        ("ko", "12345", "만 이천삼백사십오"),
        ("en", "12345", "twelve thousand three hundred forty-five"),
        ("ko", "0", "영"),
        ("en", "0", "zero"),
        ("ko", "123456789012", "천이백삼십사억 오천육백칠십팔만 구천십이"),
        ("ko", "1234567890123456789", "일이삼사오육칠팔구공일이삼사오육칠팔구"),  # too long to be a quantity
        ("en", "99999999999999999999999", " ".join(["nine"] * 23)),
        ("en", "1,000,000,000,000", "one trillion"),
        ("ko", "안녕 hello 123 世界", "안녕 hello 백이십삼 世界"),
        ("en", "hello 안녕 123 世界", "hello 안녕 one hundred twenty-three 世界"),
        ("ko", "%%% ... ::: 1..2 --5", "%%% ... ::: 일..2 --오"),
        (
            "en",
            "25:99 and 99/99/2026 and 0/0",
            "twenty-five:ninety-nine and ninety-nine/ninety-nine/twenty twenty-six and zero/zero",
        ),
        ("en", "$", "$"),
        ("ko", "no digits at all.", "no digits at all."),
    ],
)
def test_odd_input_is_spoken_without_raising(language: str, written: str, spoken: str) -> None:
    assert spoken_form(written, language) == spoken


def test_sentence_punctuation_is_kept_for_the_voices_pauses() -> None:
    written = "119에 전화하세요! 2026-11-29, 14:30에 만나요? 30%입니다."
    spoken = spoken_form(written, "ko")
    assert spoken == (
        "일일구에 전화하세요! 이천이십육년 십일월 이십구일, 오후 두 시 삼십 분에 만나요? 삼십 퍼센트입니다."
    )
    assert [char for char in spoken if char in ".,!?"] == [char for char in written if char in ".,!?"]


def test_random_text_never_raises_and_is_deterministic() -> None:
    alphabet = "0123456789 ,.:-/%$₩°CkmgLh@#&~()+apPM119원개시년월일가나다abcxyz\n"
    generator = random.Random(13)
    for _ in range(500):
        text = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 60)))
        for language in ("ko", "en", "en-GB", "ja"):
            assert spoken_form(text, language) == spoken_form(text, language)


def test_a_long_scene_is_read_quickly() -> None:
    scene = "2026-11-29 14:30에 119나 010-1234-5678로 전화하세요. 3.5kg, 30%, https://example.com. " * 20
    started = time.perf_counter()
    for _ in range(20):
        spoken_form(scene, "ko")
        spoken_form(scene, "en")
    assert time.perf_counter() - started < 2.0
