"""Local emulator of Microsoft Entra ID login, Microsoft Graph v1.0 and the modusCloud
(Proofpoint Essentials) admin API, for the collection's tests and demo.

Run it with `python -m sandbox serve --info-file PATH`; see sandbox/__main__.py.
Not part of the Ansible collection build.
"""
