import crypto
from crypto import errors


def test_single_root() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.CryptoError)


def test_hierarchy() -> None:
    assert issubclass(errors.StreamError, errors.DecryptionError)
    assert issubclass(errors.MalformedReceipt, errors.ReceiptError)
    assert issubclass(errors.MistypedReceipt, errors.ReceiptError)
    assert not issubclass(errors.MistypedReceipt, errors.MalformedReceipt)
    assert not issubclass(errors.CryptoError, ValueError)


def test_package_reexports_everything() -> None:
    for name in crypto.__all__:
        assert hasattr(crypto, name), name
