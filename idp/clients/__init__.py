"""Client applications (the portals that use the IdP) as a domain of their own.

The admin pages, the ``flask clients`` commands and dynamic client registration
(``idp.oidc.registration``) all call these services, so a client is the same whichever
way it was made:

- ``spec``: what a registration may say (``ClientSpec`` and its vocabulary);
- ``rules``: the metadata rules every registration must satisfy;
- ``credentials``: client secrets (generated, keyed-hashed, checked with rotation grace);
- ``service``: register, change, rotate, enable/disable and delete clients;
- ``dcr``: initial access tokens and RFC 7591/7592 registration.
"""
