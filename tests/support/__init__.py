"""What tests share: constants, builders of fakes and helpers. Tests import from here (and
get fixtures from conftest), never from one another."""
