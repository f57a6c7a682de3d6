"""A table to try "Many orders" with in sandbox mode: the sandbox's goods and coupons, three rows the
preview refuses, and a magic email JustClick's stand-in refuses once sent."""

from __future__ import annotations

import csv
import io

from webapp.sandbox.standin import MAGIC_DOMAIN

# As Russian Excel saves a CSV: semicolons, Russian headers, a decimal comma.
HEADERS = ["E-mail", "Имя", "Фамилия", "Телефон", "Товар", "Цена", "Купон", "Примечание"]
ROWS = [
    ["anna.petrova@example.com", "Анна", "Петрова", "+7 912 345-67-89", "Digital product", "", "welcome10",
     ""],
    ["john.smith@example.com", "John", "Smith", "+1 212 555 0100", "email-marketing-101, copywriting-club",
     "3500; 1500", "", "Partner list"],
    ["maria@", "Мария", "Иванова", "", "digital", "", "", "Bad email: fix it in the preview"],
    ["oleg@example.com", "Олег", "Сидоров", "", "Курс, которого нет", "", "", "Unknown product"],
    ["li.wei@example.com", "Li", "Wei", "", "Интенсив «Вебинарные воронки»", "-100", "", "Negative price"],
    [f"error-602@{MAGIC_DOMAIN}", "Sandbox", "Refusal", "", "digital", "", "",
     "JustClick's stand-in refuses this one (code 602)"],
    ["elena@example.com", "Елена", "Кузнецова", "+7 495 123-45-67", "Интенсив «Вебинарные воронки»",
     "7 900,00", "blackfriday30", "Многострочное примечание:\nвторая строка"],
    ["sam@example.com", "Sam", "Taylor", "", "Copywriting Club, monthly access", "", "", ""],
]


def sample_csv() -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADERS)
    writer.writerows(ROWS)
    return out.getvalue()
