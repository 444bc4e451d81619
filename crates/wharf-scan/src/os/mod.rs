//! Catalogers of operating-system package databases: dpkg, apk, rpm; and `os-release`.
