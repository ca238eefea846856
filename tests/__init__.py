"""The IdP test suite (a package so modules can share helpers from conftest)."""
