// Package config loads t5gw's global file and its per-VRF files with viper and
// validates them into a Config. Every problem is reported at once, each naming
// the file, the field and the bad value; unknown keys are errors.
package config
