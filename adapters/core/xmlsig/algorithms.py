"""Namespaces and algorithm identifiers of XML-DSig and WS-Security, and what we accept of them."""

from __future__ import annotations

from typing import Final

from adapters.core.xmlparse import NS

DS_NS: Final = NS["ds"]
WSSE_NS: Final = NS["wsse"]
WSU_NS: Final = NS["wsu"]
SOAP11_NS: Final = NS["soap"]
SOAP12_NS: Final = "http://www.w3.org/2003/05/soap-envelope"
EC_NS: Final = NS["ec"]

# canonicalization and transforms
EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_WITH_COMMENTS: Final = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
C14N: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_WITH_COMMENTS: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

CANONICALIZATIONS: Final = frozenset({EXC_C14N, EXC_C14N_WITH_COMMENTS, C14N, C14N_WITH_COMMENTS})

# digests
SHA1: Final = "http://www.w3.org/2000/09/xmldsig#sha1"
SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA384: Final = "http://www.w3.org/2001/04/xmldsig-more#sha384"
SHA512: Final = "http://www.w3.org/2001/04/xmlenc#sha512"

SECURE_DIGESTS: Final = frozenset({SHA256, SHA384, SHA512})
INSECURE_DIGESTS: Final = frozenset({SHA1})

# signatures
RSA_SHA1: Final = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
RSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA384: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
RSA_SHA512: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
ECDSA_SHA1: Final = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"
ECDSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
ECDSA_SHA384: Final = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
ECDSA_SHA512: Final = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
# National algorithms (need the NCA crypto provider; documented in docs/signing.md, not implemented)
GOST34310_GOST34311: Final = "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311"
GOST2015_512: Final = "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512"

RSA_SIGNATURES: Final = frozenset({RSA_SHA256, RSA_SHA384, RSA_SHA512})
ECDSA_SIGNATURES: Final = frozenset({ECDSA_SHA256, ECDSA_SHA384, ECDSA_SHA512})
SECURE_SIGNATURES: Final = RSA_SIGNATURES | ECDSA_SIGNATURES
INSECURE_SIGNATURES: Final = frozenset({RSA_SHA1, ECDSA_SHA1})

# WS-Security token references
X509V3_VALUE_TYPE: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3")
BASE64_ENCODING: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary")
