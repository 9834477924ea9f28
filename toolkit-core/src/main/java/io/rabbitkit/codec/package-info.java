/** The message codec SPI and the built-in JSON, string and byte-array codecs. */
package io.rabbitkit.codec;
