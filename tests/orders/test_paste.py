"""Reading customer details out of pasted text: three realistic samples, one in Russian."""

from webapp.orders.paste import read_customer

RUSSIAN_MESSAGE = """Здравствуйте! Хочу оплатить курс по счёту.
Иванова Мария Сергеевна
Телефон: 8 (916) 123-45-67
maria.ivanova@example.ru
Адрес: ул. Ленина, д. 5, кв. 12
г. Екатеринбург, 620014
Россия
"""

ENGLISH_SIGNATURE = """Thanks, looking forward to the workshop.

Best regards,
John Smith
Head of Sales, Acme Ltd.
Phone: +1 (415) 555-2671
john.smith@acme.example.com
1600 Market Street, Suite 400
San Francisco, CA 94103
United States
"""

UK_ONE_LINER = "Please invoice Olivia Brown, olivia.brown@example.co.uk, tel 020 7946 0958, United Kingdom"


def test_a_russian_message():
    assert read_customer(RUSSIAN_MESSAGE, "RU") == {
        "customer_email": "maria.ivanova@example.ru",
        "customer_phone": "+79161234567",
        "customer_last_name": "Иванова",
        "customer_first_name": "Мария",
        "customer_middle_name": "Сергеевна",
        "customer_shipping": "ул. Ленина, д. 5, кв. 12",
        "customer_shipping_city": "Екатеринбург",
        "customer_shipping_zip": "620014",
        "customer_shipping_country_code": "RU",
    }


def test_an_english_signature():
    found = read_customer(ENGLISH_SIGNATURE)
    assert found["customer_email"] == "john.smith@acme.example.com"
    assert found["customer_phone"] == "+14155552671"
    assert (found["customer_first_name"], found["customer_last_name"]) == ("John", "Smith")
    assert found["customer_shipping"] == "1600 Market Street, Suite 400"
    assert found["customer_shipping_zip"] == "94103"
    assert (found["customer_shipping_city"], found["customer_shipping_state"]) == ("San Francisco", "CA")
    assert found["customer_shipping_country_code"] == "US"


def test_a_one_line_request_reads_its_phone_as_the_phone_field_would():
    found = read_customer(UK_ONE_LINER)
    assert found["customer_email"] == "olivia.brown@example.co.uk"
    # The address's country does not decide how a number without + reads (phones.py): as typed, the
    # phone field asks for the +; where the desk reads numbers in the UK, it is a London number.
    assert found["customer_phone"] == "020 7946 0958"
    assert read_customer(UK_ONE_LINER, "GB")["customer_phone"] == "+442079460958"
    assert found["customer_shipping_country_code"] == "GB"
    assert (found["customer_first_name"], found["customer_last_name"]) == ("Olivia", "Brown")


def test_text_without_details_finds_nothing():
    assert read_customer("Call me tomorrow about the course, please.") == {}


def test_a_russian_address_on_one_line_is_split_into_postcode_city_and_street():
    found = read_customer("Петров Иван\n125009, г. Москва, ул. Тверская, д. 7, кв. 12", "RU")
    assert (found["customer_shipping_zip"], found["customer_shipping_city"], found["customer_shipping"]) == (
        "125009", "Москва", "ул. Тверская, д. 7, кв. 12")


def test_a_local_number_is_read_as_the_phone_field_reads_it():
    from webapp.orders.phones import read_phone

    typed = "8 (916) 123-45-67"
    for region in ("RU", "DE"):  # a Moscow mobile in Russia, a Munich landline in Germany
        assert read_customer(f"Иван Петров\n{typed}", region)["customer_phone"] == read_phone(typed, region)
    # With no region a number needs its +: it goes into the field as typed, where the field says so.
    assert read_customer(f"Иван Петров\n{typed}")["customer_phone"] == typed
