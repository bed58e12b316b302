"""ID numbers (GB 11643-1999 check digit) and phone numbers."""
import pytest
from django.core.exceptions import ValidationError

from members.validators import (
    id_number_check_digit, normalize_id_number, normalize_phone, validate_id_number, validate_phone,
)
from tests.factories import valid_id_number

# A published sample number: 11010519491231002X (check digit X).
SAMPLE_X = "11010519491231002X"


def test_check_digit_of_known_numbers():
    assert id_number_check_digit("11010519491231002") == "X"
    assert id_number_check_digit("44052418800101001") == "4"


@pytest.mark.parametrize("value", [SAMPLE_X, "440524188001010014", valid_id_number(7), valid_id_number(123)])
def test_valid_id_numbers(value):
    validate_id_number(value)


def test_lower_case_x_is_accepted_and_normalised():
    validate_id_number(SAMPLE_X.lower())
    assert normalize_id_number(" 11010519491231002x ") == SAMPLE_X


def test_wrong_check_digit():
    wrong = SAMPLE_X[:-1] + "1"
    with pytest.raises(ValidationError) as error:
        validate_id_number(wrong)
    assert error.value.code == "id_check"


@pytest.mark.parametrize("value", ["110105194902300021", "110105194913010028", "110105000000000000"])
def test_birth_date_inside_must_be_real(value):
    # 30 February, month 13, year 0000: the date check comes before the check digit.
    first17 = value[:17]
    with pytest.raises(ValidationError) as error:
        validate_id_number(first17 + id_number_check_digit(first17))
    assert error.value.code == "id_date"


@pytest.mark.parametrize("value", ["", "1234", "11010519491231002", "11010519491231002XX", "1101051949123100AX", "X10105194912310021"])
def test_malformed_id_numbers(value):
    with pytest.raises(ValidationError) as error:
        validate_id_number(value)
    assert error.value.code == "id_format"


@pytest.mark.parametrize("value", ["13812341234", "19912345678", "+8613812341234", "+86 138 1234 1234", "(+86)13812341234"])
def test_mobile_numbers(value):
    validate_phone(value)
    assert normalize_phone(value) == normalize_phone(value).strip()


@pytest.mark.parametrize("value", ["010-12345678", "01012345678", "0755-1234567", "021 12345678"])
def test_landlines(value):
    validate_phone(value)


def test_plus86_is_removed_by_normalisation():
    assert normalize_phone("+86 138 1234 1234") == "13812341234"
    assert normalize_phone("（010）12345678") == "01012345678"


@pytest.mark.parametrize(
    "value", ["", "12812341234", "1381234123", "138123412345", "abc", "110", "12345678", "+1 2025550123", "138-1234-1234"]
)
def test_bad_phones(value):
    with pytest.raises(ValidationError) as error:
        validate_phone(value)
    assert error.value.code == "phone"
